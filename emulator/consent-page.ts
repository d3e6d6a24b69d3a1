/**
 * HTML of the emulator's Kakao screens: the consent page (account picker, consent items and service terms
 * with required/optional marks, Agree and Cancel) and the KOE error page shown instead of a redirect
 * (KAKAO_API.md 1, "KOE codes on the authorisation step").
 */

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface ConsentAccount {
  id: string;
  nickname?: string;
  email?: string;
  description?: string;
  linked: boolean;
  dormant: boolean;
}

export interface ConsentPageInput {
  requestId: string;
  appName: string;
  accounts: ConsentAccount[];
  selectedUserId?: string;
  scopes: Array<{ id: string; title: string; required: boolean }>;
  terms: Array<{ tag: string; title: string; required: boolean }>;
  /** Shown above the form, e.g. when a required item was left unticked. */
  error?: string;
}

const STYLE = `
  *{box-sizing:border-box}
  body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR",sans-serif;background:#f6f6f6;color:#191919}
  header{background:#FEE500;padding:16px 20px;display:flex;align-items:center;gap:10px}
  header .logo{font-weight:800;font-size:20px;letter-spacing:-.5px}
  header .tag{font-size:12px;background:rgba(0,0,0,.08);border-radius:10px;padding:2px 8px}
  main{max-width:460px;margin:20px auto;background:#fff;border-radius:14px;padding:24px 22px;box-shadow:0 1px 6px rgba(0,0,0,.07)}
  h1{font-size:18px;margin:0 0 6px}
  p.lead{margin:0 0 12px;color:#555;font-size:14px;line-height:1.5}
  h2{font-size:14px;margin:22px 0 8px;color:#333}
  .account{display:flex;gap:10px;align-items:flex-start;padding:10px;border:1px solid #eee;border-radius:10px;margin-bottom:6px;cursor:pointer}
  .account:has(input:checked){border-color:#191919;background:#fffde6}
  .account .nick{font-weight:600}.account .mail{color:#666;font-size:13px}
  .account .desc{display:block;color:#999;font-size:12px;margin-top:2px}
  .badge{font-size:11px;border-radius:8px;padding:1px 6px;margin-left:4px;background:#eee;color:#555}
  .badge.dormant{background:#ffe0e0;color:#b00020}
  .item{display:flex;gap:8px;align-items:center;padding:9px 4px;border-bottom:1px solid #f0f0f0;font-size:14px;cursor:pointer}
  .item.all{font-weight:700;border-bottom:2px solid #191919}
  .mark{font-size:12px;font-weight:600}.mark.req{color:#e65100}.mark.opt{color:#888}
  .error{background:#ffeaea;color:#b00020;border-radius:8px;padding:10px;font-size:13px;margin-bottom:12px}
  .buttons{display:flex;gap:8px;margin-top:22px}
  button{flex:1;padding:14px;border:0;border-radius:10px;font-size:15px;cursor:pointer}
  .agree{background:#FEE500;color:#191919;font-weight:700}.cancel{background:#f0f0f0;color:#333}
  .note{color:#aaa;font-size:11px;margin-top:16px;text-align:center}
`;

export function consentPage(input: ConsentPageInput): string {
  const selected = input.selectedUserId ?? input.accounts.find((a) => !a.dormant)?.id ?? input.accounts[0]?.id;
  const accounts = input.accounts
    .map(
      (
        a,
      ) => `<label class="account"><input type="radio" name="user" value="${esc(a.id)}"${a.id === selected ? ' checked' : ''} required>
      <span><span class="nick">${esc(a.nickname ?? a.id)}</span>${a.linked ? '<span class="badge">연결됨 linked</span>' : ''}${
        a.dormant ? '<span class="badge dormant">휴면 dormant</span>' : ''
      }<br><span class="mail">${esc(a.email ?? '(이메일 없음 · no email)')}</span>${
        a.description ? `<span class="desc">${esc(a.description)}</span>` : ''
      }</span></label>`,
    )
    .join('\n');
  const mark = (required: boolean) =>
    required ? '<span class="mark req">[필수 required]</span>' : '<span class="mark opt">[선택 optional]</span>';
  const box = (value: string, title: string, required: boolean) =>
    `<label class="item"><input type="checkbox" class="consent" name="agree" value="${esc(value)}" checked${
      required ? ' required' : ''
    }> ${mark(required)} ${esc(title)}</label>`;
  const terms = input.terms.map((t) => box(t.tag, t.title, t.required)).join('\n');
  const scopes = input.scopes.map((s) => box(s.id, s.title, s.required)).join('\n');
  return `<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>카카오 로그인 · Kakao Login (emulator)</title><style>${STYLE}</style></head>
<body><header><span class="logo">kakao</span><span class="tag">emulator</span></header>
<main>
  <h1>${esc(input.appName)}</h1>
  <p class="lead">서비스 이용을 위해 아래 항목에 동의해 주세요.<br>To continue, agree to share the items below.</p>
  ${input.error ? `<div class="error" role="alert">${esc(input.error)}</div>` : ''}
  <form method="post" action="/oauth/authorize/consent">
    <input type="hidden" name="request_id" value="${esc(input.requestId)}">
    <h2>카카오계정 선택 · Choose a Kakao account</h2>
    ${accounts}
    ${
      terms || scopes
        ? `<h2>동의 항목 · Consent</h2>
    <label class="item all"><input type="checkbox" id="all" checked> 전체 동의하기 · Agree to all</label>
    ${terms ? `${terms}` : ''}
    ${scopes}`
        : ''
    }
    <div class="buttons">
      <button class="cancel" type="submit" name="decision" value="cancel" formnovalidate>취소 · Cancel</button>
      <button class="agree" type="submit" name="decision" value="agree">동의하고 계속하기 · Agree and continue</button>
    </div>
    <p class="note">Kakao emulator for local development and tests. This is not Kakao.</p>
  </form>
</main>
<script>
  var all = document.getElementById('all');
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input.consent'));
  if (all) {
    all.addEventListener('change', function () { boxes.forEach(function (b) { b.checked = all.checked; }); });
    boxes.forEach(function (b) { b.addEventListener('change', function () { all.checked = boxes.every(function (x) { return x.checked; }); }); });
  }
</script>
</body></html>`;
}

export function errorPage(code: string, message: string): string {
  return `<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(code)} · 카카오 로그인 오류</title><style>${STYLE}</style></head>
<body><header><span class="logo">kakao</span><span class="tag">emulator</span></header>
<main>
  <h1>잠시 후 다시 시도해 주세요</h1>
  <p class="lead">Kakao Login could not continue.</p>
  <div class="error" role="alert"><b>${esc(code)}</b> ${esc(message)}</div>
  <p class="note">Kakao shows this page instead of calling the redirect URI (KAKAO_API.md 1).</p>
</main></body></html>`;
}
