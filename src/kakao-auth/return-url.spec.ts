import { isAllowedReturnUrl, withParams } from './return-url';

describe('isAllowedReturnUrl', () => {
  const allowed = ['https://app.example.com/auth', 'http://localhost:5173/'];

  it.each([
    'https://app.example.com/auth',
    'https://app.example.com/auth/done?x=1',
    'https://app.example.com/auth#frag',
    'http://localhost:5173/',
    'http://localhost:5173/anything/below',
  ])('allows %s', (url) => expect(isAllowedReturnUrl(url, allowed)).toBe(true));

  it.each([
    'https://app.example.com/authevil',
    'https://app.example.com/',
    'https://app.example.com.evil.com/auth',
    'https://evil.com/auth',
    'http://app.example.com/auth',
    'https://app.example.com:8443/auth',
    'https://user:pass@app.example.com/auth',
    'https://app.example.com\\@evil.com/auth',
    '//evil.com/auth',
    '/auth',
    'javascript:alert(1)//app.example.com/auth',
    'https://app.example.com/auth\n.evil.com',
    'http://localhost:5174/',
    '',
  ])('refuses %p', (url) => expect(isAllowedReturnUrl(url, allowed)).toBe(false));

  it('refuses everything when nothing is allowed', () => {
    expect(isAllowedReturnUrl('https://app.example.com/auth', [])).toBe(false);
  });
});

describe('withParams', () => {
  it('adds parameters and keeps the rest of the URL', () => {
    expect(withParams('https://app.example.com/auth?x=1#f', { ticket: 'abc' })).toBe(
      'https://app.example.com/auth?x=1&ticket=abc#f',
    );
  });
});
