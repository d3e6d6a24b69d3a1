import { SCOPES, ServiceTermConfig, UserState } from './state';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Kakao's consent screen, near enough for a person to recognise it: pick an account, tick consent items and
 * service terms (required ones marked), agree or cancel. The form posts back to /oauth/authorize.
 */
export function consentPage(input: {
  requestId: string;
  clientName: string;
  users: UserState[];
  scopes: string[];
  terms: ServiceTermConfig[];
}): string {
  const accounts = input.users
    .map(
      (
        u,
        i,
      ) => `<label class="account"><input type="radio" name="emulator_user" value="${esc(u.persona.id)}" ${i === 0 ? 'checked' : ''}>
        <span class="nick">${esc(u.persona.nickname ?? u.persona.id)}</span>
        <span class="mail">${esc(u.persona.email ?? '')}</span>
        <span class="desc">${esc(u.persona.description ?? '')}</span></label>`,
    )
    .join('\n');
  const scopeItems = input.scopes
    .filter((s) => s !== 'openid')
    .map((s) => {
      const title = SCOPES.find((x) => x.id === s)?.title ?? s;
      return `<label class="item"><input type="checkbox" name="agree" value="${esc(s)}" checked> ${esc(title)} <small>[선택 optional]</small></label>`;
    })
    .join('\n');
  const termItems = input.terms
    .map(
      (t) =>
        `<label class="item"><input type="checkbox" name="agree" value="${esc(t.tag)}" checked> ${esc(t.title ?? t.tag)} <small>${
          t.required ? '<b class="req">[필수 required]</b>' : '[선택 optional]'
        }</small></label>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>카카오 로그인 동의 (Kakao emulator)</title>
<style>
  body{margin:0;font-family:-apple-system,"Apple SD Gothic Neo","Malgun Gothic",sans-serif;background:#f5f5f5;color:#191919}
  header{background:#FEE500;padding:18px 24px;font-weight:700;font-size:18px}
  main{max-width:480px;margin:24px auto;background:#fff;border-radius:12px;padding:24px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
  h2{font-size:15px;margin:20px 0 8px}
  .account,.item{display:block;padding:10px 8px;border-bottom:1px solid #eee;cursor:pointer}
  .nick{font-weight:600;margin-right:8px}.mail{color:#666;font-size:13px}.desc{display:block;color:#999;font-size:12px;margin-left:22px}
  .req{color:#e65100}
  .buttons{display:flex;gap:8px;margin-top:24px}
  button{flex:1;padding:14px;border:0;border-radius:8px;font-size:15px;cursor:pointer}
  .agree{background:#FEE500;color:#191919;font-weight:700}.cancel{background:#eee}
  .note{color:#999;font-size:12px;margin-top:16px}
</style></head>
<body><header>kakao</header>
<main>
  <p><b>${esc(input.clientName)}</b> 서비스 이용을 위해 아래 정보 제공에 동의해 주세요.<br><small>To use this service, agree to share the items below.</small></p>
  <form method="post" action="/oauth/authorize">
    <input type="hidden" name="request_id" value="${esc(input.requestId)}">
    <h2>계정 선택 · Choose an account</h2>
    ${accounts}
    ${termItems ? `<h2>서비스 약관 · Service terms</h2>${termItems}` : ''}
    ${scopeItems ? `<h2>제공 항목 · Consent items</h2>${scopeItems}` : ''}
    <div class="buttons">
      <button class="cancel" type="submit" name="decision" value="cancel">취소 Cancel</button>
      <button class="agree" type="submit" name="decision" value="agree">동의하고 계속하기 Agree</button>
    </div>
    <p class="note">This is the Kakao emulator for local development, not Kakao.</p>
  </form>
</main></body></html>`;
}

export function errorPage(code: string, message: string): string {
  return `<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>${esc(code)}</title></head>
<body style="font-family:sans-serif;padding:40px"><h1>${esc(code)}</h1><p>${esc(message)}</p><p><small>Kakao emulator</small></p></body></html>`;
}
