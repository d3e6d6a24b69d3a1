import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SERVICE_NODE_FLAGS } from './node-flags';

const ROOT = path.resolve(__dirname, '..');

describe('SERVICE_NODE_FLAGS', () => {
  it('are what npm start, npm run dev and the container run the service with', () => {
    const scripts = (
      JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    const flags = SERVICE_NODE_FLAGS.join(' ');
    expect(scripts.start).toBe(`node ${flags} scripts/start.js`);
    expect(scripts.dev).toContain(`node ${flags} dist/scripts/dev.js`);
    const cmd = readFileSync(path.join(ROOT, 'docker', 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('CMD ['));
    expect(cmd).toEqual([
      `CMD ${JSON.stringify(['node', ...SERVICE_NODE_FLAGS, 'scripts/start.js'])}`.replace(/","/g, '", "'),
    ]);
  });

  it('are accepted by this Node (an unknown V8 flag makes node refuse to start)', () => {
    const run = spawnSync(process.execPath, [...SERVICE_NODE_FLAGS, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(spawnSync(process.execPath, ['--no-such-v8-flag-at-all', '-e', '0']).status).not.toBe(0);
  });
});
