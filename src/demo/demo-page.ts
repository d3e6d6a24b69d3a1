/**
 * The demo page's HTML: every screen is a <template> here, in plain HTML; the script (browser/demo.ts)
 * shows one at a time, fills its `data-slot`s with what the API answered and wires its `data-action`
 * buttons and `data-form` forms. Three URLs reach the script through data attributes on <body>: there is no
 * inline script (the service's CSP allows scripts from 'self' only).
 */

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A Korean label with its English translation beside it, lighter. */
const bi = (ko: string, en: string): string => `${ko} <span class="en" lang="en">${en}</span>`;

export interface DemoPageInput {
  publicUrl: string;
  /** Where logins return to (`returnTo`); must be allowed by ALLOWED_RETURN_URLS. */
  demoUrl: string;
  /** Kakao's account logout, returning to the demo. */
  kakaoLogoutUrl: string;
}

/**
 * Kakao's speech-bubble symbol, black (#000000), drawn for an 18 × 18 box: an ellipse with the tail at its
 * lower left. Kakao Login design guide: the symbol's shape, ratio and colour are not to be changed, and
 * the button never goes without it (https://developers.kakao.com/docs/latest/ko/kakaologin/design-guide).
 */
export const KAKAO_SYMBOL_SVG =
  '<svg class="kakao-symbol" viewBox="0 0 18 18" width="18" height="18" aria-hidden="true" focusable="false">' +
  '<path fill="#000000" d="M7.44 14.39A9 7 0 1 0 3.84 13.23L3.1 16.9c-.07.33.29.58.57.4z"/></svg>';

/** The guide's full label; the button is a link: the redirect flow starts with a plain navigation. */
const KAKAO_BUTTON = `<a class="kakao-login" data-slot="kakao-login">${KAKAO_SYMBOL_SVG}<span class="kakao-label">카카오 로그인</span></a>`;

const field = (ko: string, en: string, input: string) =>
  `<label><span class="caption">${bi(ko, en)}</span>${input}</label>`;

const SIGNED_OUT = `
<section class="card" data-screen="signed-out">
  <h2>${bi('로그인', 'Sign in')}</h2>
  <p class="lead">${bi('카카오계정이나 이메일로 계속하세요.', 'Continue with a Kakao account or with email.')}</p>
  ${KAKAO_BUTTON}
  <label class="login-options"><input type="checkbox" data-slot="select-account">
    ${bi('계정 선택 화면 보기 (prompt=select_account)', 'Always show the account picker')}</label>
  <div class="divider">또는 · or</div>
  <div class="tabs" role="tablist">
    <button type="button" role="tab" data-action="tab-login" aria-selected="true">${bi('이메일 로그인', 'Log in')}</button>
    <button type="button" role="tab" data-action="tab-signup" aria-selected="false">${bi('회원가입', 'Sign up')}</button>
  </div>
  <form class="stack" data-form="email-login" data-slot="email-login">
    ${field('이메일', 'Email', '<input type="email" name="email" required autocomplete="username">')}
    ${field('비밀번호', 'Password', '<input type="password" name="password" required autocomplete="current-password">')}
    <button type="submit" class="btn primary">${bi('이메일로 로그인', 'Log in with email')}</button>
  </form>
  <form class="stack" data-form="email-signup" data-slot="email-signup" hidden>
    ${field('이름', 'Name', '<input type="text" name="name" required autocomplete="name">')}
    ${field('이메일', 'Email', '<input type="email" name="email" required autocomplete="email">')}
    ${field('비밀번호 (8자 이상)', 'Password (8+ characters)', '<input type="password" name="password" required minlength="8" autocomplete="new-password">')}
    <button type="submit" class="btn primary">${bi('가입하기', 'Sign up')}</button>
  </form>
</section>`;

const CANDIDATE = `
  <div class="candidate">
    <div class="avatar" aria-hidden="true" data-slot="candidate-initial"></div>
    <div><div class="who" data-slot="masked-name"></div><div class="muted" data-slot="masked-email"></div></div>
  </div>`;

const CANCEL = `<button type="button" class="btn" data-action="cancel">${bi('취소', 'Cancel')}</button>`;

const LINK_REQUIRED = `
<section class="card" data-screen="LINK_REQUIRED">
  <div class="screen-kicker">LINK_REQUIRED</div>
  <h2>${bi('이미 가입한 계정이 있어요', 'You already have an account')}</h2>
  <p class="lead">${bi(
    '카카오계정의 이메일과 이름이 아래 회원과 같습니다. 연결하면 다음부터 카카오로 로그인할 수 있어요.',
    "The Kakao account's email and name match this member. Link them to sign in with Kakao from now on.",
  )}</p>
  ${CANDIDATE}
  <div class="actions">
    <button type="button" class="btn primary" data-action="link-confirm">${bi('연결하기', 'Link accounts')}</button>
    ${CANCEL}
  </div>
</section>`;

const VERIFICATION_REQUIRED = `
<section class="card" data-screen="VERIFICATION_REQUIRED">
  <div class="screen-kicker">VERIFICATION_REQUIRED</div>
  <h2>${bi('기존 계정을 확인해 주세요', 'Confirm your existing account')}</h2>
  <p class="lead">${bi(
    '정보가 일부만 일치합니다. 기존 계정의 이메일과 비밀번호를 입력하면 카카오계정을 연결합니다.',
    "Only part of the details match. Enter the existing account's email and password to link your Kakao account.",
  )}</p>
  ${CANDIDATE}
  <form class="stack" data-form="link-verify">
    ${field('이메일', 'Email', '<input type="email" name="email" required autocomplete="username">')}
    ${field('비밀번호', 'Password', '<input type="password" name="password" required autocomplete="current-password">')}
    <div class="actions">
      <button type="submit" class="btn primary">${bi('확인하고 연결', 'Verify and link')}</button>
      ${CANCEL}
    </div>
  </form>
</section>`;

const MANDATORY_ITEMS_NOT_AGREED = `
<section class="card" data-screen="MANDATORY_ITEMS_NOT_AGREED">
  <div class="screen-kicker">MANDATORY_ITEMS_NOT_AGREED</div>
  <h2>${bi('필수 동의 항목이 빠졌어요', 'A required consent item is missing')}</h2>
  <p class="lead">${bi(
    '아래 항목에 동의해야 가입할 수 있습니다. 카카오 동의 화면에서 다시 동의해 주세요.',
    "Signing up needs the items below. Agree to them on Kakao's consent screen.",
  )}</p>
  <ul class="items" data-slot="missing-items"></ul>
  <div class="actions">
    <a class="btn kakao" data-slot="consent-url">${bi('카카오에서 동의하기', 'Agree on Kakao')}</a>
    ${CANCEL}
  </div>
</section>`;

const TERMS_REQUIRED = `
<section class="card" data-screen="TERMS_REQUIRED">
  <div class="screen-kicker">TERMS_REQUIRED</div>
  <h2>${bi('약관에 동의해 주세요', 'Please agree to the terms')}</h2>
  <p class="lead">${bi(
    '서비스를 이용하려면 필수 약관에 동의해야 합니다.',
    'Using the service needs your agreement to the required terms.',
  )}</p>
  <p class="notice error" data-slot="catalog-error" hidden></p>
  <form data-form="terms-agree">
    <div class="checklist">
      <label class="all"><input type="checkbox" data-slot="terms-all"> ${bi('전체 동의하기', 'Agree to all')}</label>
      <div data-slot="terms-checklist"></div>
    </div>
    <div class="actions">
      <button type="submit" class="btn primary">${bi('동의하고 계속하기', 'Agree and continue')}</button>
      <a class="btn kakao" data-slot="consent-url">${bi('카카오에서 동의하기', 'Agree on Kakao')}</a>
      ${CANCEL}
    </div>
  </form>
</section>`;

const SIGNED_IN = `
<div data-screen="signed-in">
  <section class="card">
    <div class="profile">
      <div class="avatar" aria-hidden="true" data-slot="avatar"></div>
      <div>
        <div class="who" data-slot="name"></div>
        <div><span data-slot="email"></span> <span data-slot="email-badge"></span></div>
        <div data-slot="badges"></div>
      </div>
    </div>
    <h3>${bi('회원 정보', 'Member')}</h3>
    <table class="kv" data-slot="member"></table>
  </section>
  <section class="card">
    <h2>${bi('연결된 계정', 'Linked identities')}</h2>
    <p class="muted" data-slot="no-identities">${bi('연결된 카카오계정이 없습니다.', 'No Kakao account is linked.')}</p>
    <table class="list" data-slot="identities"></table>
    <div class="actions">
      <button type="button" class="btn kakao" data-action="link" data-slot="link">${bi('카카오계정 연결', 'Link a Kakao account')}</button>
      <button type="button" class="btn" data-action="unlink" data-slot="unlink">${bi('카카오 연결 끊기', 'Unlink Kakao')}</button>
    </div>
  </section>
  <section class="card">
    <h2>${bi('약관 동의 상태', 'Terms')}</h2>
    <p class="notice error" data-slot="terms-error" hidden></p>
    <table class="list" data-slot="terms"></table>
    <div class="actions">
      <button type="button" class="btn" data-action="terms-sync">${bi('카카오와 동기화', 'Sync with Kakao')}</button>
    </div>
  </section>
  <section class="card">
    <h2>${bi('세션', 'Session')}</h2>
    <table class="kv" data-slot="session"></table>
    <div class="actions">
      <button type="button" class="btn" data-action="refresh">${bi('토큰 갱신', 'Refresh tokens')}</button>
      <button type="button" class="btn" data-action="reload">${bi('새로고침', 'Reload member')}</button>
      <button type="button" class="btn primary" data-action="logout">${bi('로그아웃', 'Log out')}</button>
      <button type="button" class="btn" data-action="logout-everywhere">${bi('모든 기기에서 로그아웃', 'Log out everywhere')}</button>
      <button type="button" class="btn danger" data-action="withdraw" data-slot="withdraw">${bi('회원 탈퇴', 'Withdraw')}</button>
    </div>
    <div class="notice info" data-slot="recertify" hidden>
      ${bi('탈퇴 전에 최근 인증이 필요합니다 (5분 이내).', 'Withdrawal needs an authentication within the last 5 minutes.')}
      <div class="actions">
        <button type="button" class="btn kakao" data-action="recertify" data-slot="recertify-kakao">${bi('카카오로 다시 인증', 'Re-authenticate with Kakao')}</button>
      </div>
      <form class="stack" data-form="recertify-password" data-slot="recertify-password">
        ${field('비밀번호로 다시 인증', 'Or re-enter your password', '<input type="password" name="password" required autocomplete="current-password">')}
        <button type="submit" class="btn">${bi('확인', 'Confirm')}</button>
      </form>
    </div>
  </section>
</div>`;

export function demoPage(input: DemoPageInput): string {
  return `<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>카카오 로그인 데모 · Kakao login demo</title>
<link rel="stylesheet" href="demo/assets/demo.css">
<script type="module" src="demo/assets/demo.js"></script>
</head>
<body data-public-url="${esc(input.publicUrl)}" data-demo-url="${esc(input.demoUrl)}" data-kakao-logout-url="${esc(input.kakaoLogoutUrl)}">
<header class="top">
  <div class="brand"><span class="dot" aria-hidden="true"></span>kakao-auth <span class="chip">demo</span></div>
  <nav><a href="docs" target="_blank" rel="noopener">Swagger UI</a></nav>
</header>
<div class="layout">
  <main id="app">
    <div id="notices" aria-live="polite"></div>
    <div id="screen">
      <section class="card"><p class="muted">${bi('불러오는 중…', 'Loading…')}</p>
      <noscript><p>${bi('이 데모는 JavaScript가 필요합니다.', 'This demo needs JavaScript.')}</p></noscript></section>
    </div>
  </main>
  <aside>
    <section class="card">
      <h2>LoginOutcome</h2>
      <p class="muted" data-slot="no-outcome">${bi('아직 없습니다.', 'None yet.')}</p>
      <pre class="json" data-slot="outcome-json" hidden></pre>
    </section>
    <section class="card">
      <h2>${bi('API 호출', 'API calls')}</h2>
      <ol class="activity" data-slot="activity"></ol>
      <p class="en">Service ${esc(input.publicUrl)}</p>
    </section>
  </aside>
</div>
<footer class="foot">
  ${bi(
    '개발용 데모 페이지입니다. NODE_ENV=development 또는 DEMO_ENABLED=true일 때만 열립니다.',
    'A development demo: served only when NODE_ENV=development or DEMO_ENABLED=true.',
  )}
</footer>
<template id="signed-out">${SIGNED_OUT}</template>
<template id="LINK_REQUIRED">${LINK_REQUIRED}</template>
<template id="VERIFICATION_REQUIRED">${VERIFICATION_REQUIRED}</template>
<template id="MANDATORY_ITEMS_NOT_AGREED">${MANDATORY_ITEMS_NOT_AGREED}</template>
<template id="TERMS_REQUIRED">${TERMS_REQUIRED}</template>
<template id="signed-in">${SIGNED_IN}</template>
</body>
</html>
`;
}
