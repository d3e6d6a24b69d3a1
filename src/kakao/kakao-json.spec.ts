import { parseKakaoJson } from './kakao-json';

describe('parseKakaoJson', () => {
  it('keeps ids above 2^53 exact, as strings', () => {
    const body = '{"id":1376016924429759243,"connected_at":"2022-04-11T01:45:28Z","kakao_account":{"email":"a@b.c"}}';
    expect(parseKakaoJson(body)).toEqual({
      id: '1376016924429759243',
      connected_at: '2022-04-11T01:45:28Z',
      kakao_account: { email: 'a@b.c' },
    });
    expect(JSON.parse(body).id).not.toBe(1376016924429759243n.toString());
  });

  it('turns app_id and nested ids into strings, and leaves other numbers alone', () => {
    expect(parseKakaoJson('{ "id" : 9007199254740993 , "expires_in":7199,"app_id":1234}')).toEqual({
      id: '9007199254740993',
      expires_in: 7199,
      app_id: '1234',
    });
  });

  it('does not touch an "id" that is text inside a string', () => {
    expect(parseKakaoJson('{"msg":"bad \\"id\\":12345678901234567890 here","code":-2}')).toEqual({
      msg: 'bad "id":12345678901234567890 here',
      code: -2,
    });
  });

  // A nickname cut in the middle of an emoji reached a jsonb column as "\ud83d" and failed the login with a 500.
  it('gives strings PostgreSQL can store: no U+0000, no unpaired surrogate, whole pairs kept', () => {
    const body = String.raw`{"id":4000000000000001009,"properties":{"nickname":"튜브\ud83d","bio":"a\u0000b \ud83d\ude00"}}`;
    expect(parseKakaoJson(body)).toEqual({
      id: '4000000000000001009',
      properties: { nickname: '튜브\ufffd', bio: 'ab 😀' },
    });
  });
});
