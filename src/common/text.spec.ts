import { hasUnpairedSurrogate, storableText } from './text';

describe('hasUnpairedSurrogate', () => {
  it('finds a high or low surrogate without its other half, wherever it is', () => {
    for (const text of ['\ud800', 'a\ud83d', '\ude00b', '\ude00\ud83d', '😀\ud83d', 'x\udfff😀']) {
      expect(hasUnpairedSurrogate(text)).toBe(true);
    }
  });

  it('accepts whole pairs and text without surrogates, also when called again (no regex state kept)', () => {
    for (const text of ['', '홍길동', '😀', 'a😀b😀', '\ud83d\ude00']) {
      expect(hasUnpairedSurrogate(text)).toBe(false);
      expect(hasUnpairedSurrogate(text)).toBe(false);
    }
  });
});

describe('storableText', () => {
  it('drops U+0000 and turns unpaired surrogates into U+FFFD, keeping whole pairs', () => {
    expect(storableText('UNLINK\u0000_FROM_APPS\u0000')).toBe('UNLINK_FROM_APPS');
    expect(storableText('튜브\ud83d')).toBe('튜브\ufffd');
    expect(storableText('\ude00😀\ud83d')).toBe('\ufffd😀\ufffd');
    expect(storableText('😀 plain')).toBe('😀 plain');
  });

  it('leaves nothing PostgreSQL json refuses', () => {
    const stored = storableText('a\ud800b\u0000c');
    expect(hasUnpairedSurrogate(stored)).toBe(false);
    expect(JSON.stringify(stored)).not.toMatch(/\\u(0000|d[89a-f])/i);
  });
});
