import { ConfigError } from '../config/environment';
import { parseCatalog } from './terms-catalog';

const term = (t: Record<string, unknown> = {}) => ({
  tag: 'service_2024',
  title: 'Terms of Service',
  url: 'https://example.com/terms',
  required: true,
  revocable: false,
  ...t,
});
const parse = (value: unknown) => parseCatalog(JSON.stringify(value), 'terms.json');
const problem = (value: unknown) => {
  try {
    parse(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join('; ');
  }
  throw new Error('expected the catalog to be refused');
};

describe('parseCatalog (TERMS_CATALOG_FILE)', () => {
  it('reads the shipped catalog shape in order', () => {
    expect(parse([term(), term({ tag: 'marketing', required: false, revocable: true })])).toEqual([
      term(),
      term({ tag: 'marketing', required: false, revocable: true }),
    ]);
  });

  it('names the file and the problem', () => {
    expect(() => parseCatalog('{', 'x.json')).toThrow(/TERMS_CATALOG_FILE \(x\.json\): not valid JSON/);
    expect(problem({})).toMatch(/JSON list/);
    expect(problem([term({ tag: 'has space' })])).toMatch(/entry 0: tag/);
    expect(problem([term({ title: '' })])).toMatch(/title/);
    expect(problem([term({ url: 'javascript:alert(1)' })])).toMatch(/url/);
    expect(problem([term({ required: 'yes' })])).toMatch(/required/);
    expect(problem([term({ revocable: undefined })])).toMatch(/revocable/);
    expect(problem([term(), term()])).toMatch(/duplicate tag service_2024/);
  });

  it('refuses a required term marked revocable (Kakao revokes only optional terms)', () => {
    expect(problem([term({ revocable: true })])).toMatch(/required term cannot be revocable/);
  });
});
