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

/**
 * Laid out after Kakao's own screens, narrow as on a phone: the "kakao" wordmark, the app asking, the
 * account picker (Kakao's "계정 선택": avatar, nickname, email) and the consent screen (동의 화면: "전체 동의하기"
 * with its note, then each term and consent item with a round check, [필수]/[선택] and a chevron, then the
 * yellow "동의하고 계속하기"). Only the look follows Kakao; the form fields and their behaviour are the
 * emulator's contract (README: "The consent page and the skip switches").
 */
const STYLE = `
  *{box-sizing:border-box}
  body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR","NanumGothic",sans-serif;
    background:#f2f2f2;color:#191919;font-size:15px;line-height:1.45}
  main{max-width:440px;margin:0 auto;background:#fff;min-height:100vh;padding:0 24px 28px}
  @media (min-width:520px){main{margin:28px auto;min-height:0;border-radius:12px;box-shadow:0 2px 14px rgba(0,0,0,.08)}}
  header{display:flex;justify-content:center;align-items:center;gap:6px;padding:22px 0 6px}
  header .logo{font-weight:800;font-size:21px;letter-spacing:-.8px;color:#191919}
  header .tag{font-size:10px;color:#999;border:1px solid #e5e5e5;border-radius:8px;padding:0 6px}
  .app{display:flex;align-items:center;gap:12px;padding:18px 0 16px;border-bottom:1px solid #f0f0f0}
  .app .icon{width:44px;height:44px;border-radius:12px;background:#FEE500;display:flex;align-items:center;justify-content:center;
    font-weight:800;font-size:19px;color:#3c1e1e;flex:none}
  .app h1{font-size:17px;margin:0;letter-spacing:-.3px}
  .app p{margin:2px 0 0;color:#888;font-size:13px}
  p.lead{margin:18px 0 4px;font-size:19px;font-weight:700;letter-spacing:-.5px;line-height:1.35}
  p.lead .en{display:block;font-size:13px;font-weight:400;color:#888;letter-spacing:0;margin-top:4px}
  h2{font-size:13px;font-weight:700;color:#777;margin:22px 0 6px}
  h2 .en{font-weight:400;color:#aaa}
  .account{display:flex;gap:12px;align-items:center;padding:11px 12px;border:1px solid #ededed;border-radius:12px;margin-bottom:6px;cursor:pointer}
  .account:has(input:checked){border-color:#191919;box-shadow:inset 0 0 0 1px #191919}
  .account .avatar{width:40px;height:40px;border-radius:50%;display:flex;align-items:center;justify-content:center;font-weight:700;
    font-size:16px;color:#fff;flex:none}
  .account .who{flex:1;min-width:0}
  .account .nick{font-weight:700}.account .mail{color:#777;font-size:13px}
  .account .desc{display:block;color:#aaa;font-size:11.5px;margin-top:2px;line-height:1.35}
  .badge{font-size:10.5px;border-radius:8px;padding:1px 6px;margin-left:5px;background:#f1f1f1;color:#666;font-weight:600;vertical-align:1px}
  .badge.dormant{background:#ffe7e7;color:#c62828}
  input[type=radio],input[type=checkbox]{appearance:none;-webkit-appearance:none;margin:0;flex:none;width:24px;height:24px;border-radius:50%;
    border:1.5px solid #d6d6d6;background:#fff url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'%3E%3Cpath d='M7 12.5l3.2 3.2L17 9' fill='none' stroke='%23c8c8c8' stroke-width='2' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E") center/100% no-repeat;cursor:pointer}
  input[type=radio]:checked,input[type=checkbox]:checked{border-color:#FEE500;background-color:#FEE500;
    background-image:url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'%3E%3Cpath d='M7 12.5l3.2 3.2L17 9' fill='none' stroke='%23191919' stroke-width='2' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E")}
  input:focus-visible{outline:2px solid #191919;outline-offset:2px}
  .item{display:flex;gap:10px;align-items:center;padding:9px 0;font-size:14.5px;cursor:pointer}
  .item .chev{margin-left:auto;color:#c4c4c4;font-size:18px;line-height:1}
  .item.all{font-weight:700;font-size:17px;padding:14px 14px;background:#f7f7f7;border-radius:12px;margin-top:8px}
  .item.all input{width:28px;height:28px}
  .note-all{color:#999;font-size:12px;margin:8px 2px 10px;line-height:1.45}
  .group{border-top:1px solid #f0f0f0;margin-top:6px;padding-top:6px}
  .group .provider{color:#999;font-size:12px;margin:6px 0 2px}
  .mark{font-size:13px;font-weight:700;white-space:nowrap}.mark.req{color:#191919}.mark.opt{color:#999}
  .error{background:#fff0f0;color:#c62828;border-radius:10px;padding:10px 12px;font-size:13px;margin-top:14px}
  .buttons{display:flex;gap:8px;margin-top:22px}
  button{padding:15px 10px;border:0;border-radius:12px;font:inherit;font-size:15px;cursor:pointer}
  .agree{flex:2;background:#FEE500;color:rgba(0,0,0,.85);font-weight:700}.cancel{flex:1;background:#f2f2f2;color:#555}
  .note{color:#b5b5b5;font-size:11px;margin-top:16px;text-align:center}
`;

/** Soft avatar colours, picked per account so the picker reads like Kakao's profile list. */
const AVATAR_COLORS = ['#f4a261', '#8ab17d', '#7fb3d5', '#c39bd3', '#e07a5f', '#81b29a', '#b08968', '#6d9dc5'];
const avatarColor = (id: string): string =>
  AVATAR_COLORS[[...id].reduce((sum, c) => sum + c.charCodeAt(0), 0) % AVATAR_COLORS.length];

const HEAD = (title: string) => `<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>`;

const BRAND = '<header><span class="logo">kakao</span><span class="tag">emulator</span></header>';

export function consentPage(input: ConsentPageInput): string {
  const selected = input.selectedUserId ?? input.accounts.find((a) => !a.dormant)?.id ?? input.accounts[0]?.id;
  const accounts = input.accounts
    .map((a) => {
      const label = a.nickname ?? a.id;
      return `<label class="account"><span class="avatar" style="background:${avatarColor(a.id)}" aria-hidden="true">${esc(
        [...label][0] ?? '?',
      )}</span>
      <span class="who"><span class="nick">${esc(label)}</span>${a.linked ? '<span class="badge">연결됨 linked</span>' : ''}${
        a.dormant ? '<span class="badge dormant">휴면 dormant</span>' : ''
      }<br><span class="mail">${esc(a.email ?? '(이메일 없음 · no email)')}</span>${
        a.description ? `<span class="desc">${esc(a.description)}</span>` : ''
      }</span>
      <input type="radio" name="user" value="${esc(a.id)}"${a.id === selected ? ' checked' : ''} required aria-label="${esc(label)}"></label>`;
    })
    .join('\n');
  const mark = (required: boolean) =>
    required ? '<span class="mark req">[필수 required]</span>' : '<span class="mark opt">[선택 optional]</span>';
  const box = (value: string, title: string, required: boolean) =>
    `<label class="item"><input type="checkbox" class="consent" name="agree" value="${esc(value)}" checked${
      required ? ' required' : ''
    }> ${mark(required)} <span>${esc(title)}</span><span class="chev" aria-hidden="true">›</span></label>`;
  const terms = input.terms.map((t) => box(t.tag, t.title, t.required)).join('\n');
  const scopes = input.scopes.map((s) => box(s.id, s.title, s.required)).join('\n');
  const appName = esc(input.appName);
  return `${HEAD('카카오 로그인 · Kakao Login (emulator)')}
<body><main>
  ${BRAND}
  <div class="app"><span class="icon" aria-hidden="true">${esc([...input.appName][0] ?? 'K')}</span>
    <div><h1>${appName}</h1><p>카카오계정으로 로그인 · Sign in with Kakao</p></div></div>
  <p class="lead">서비스 이용을 위해 아래 항목에 동의해 주세요.<span class="en">To continue, agree to share the items below.</span></p>
  ${input.error ? `<div class="error" role="alert">${esc(input.error)}</div>` : ''}
  <form method="post" action="/oauth/authorize/consent">
    <input type="hidden" name="request_id" value="${esc(input.requestId)}">
    <h2>카카오계정 선택 <span class="en">· Choose a Kakao account</span></h2>
    ${accounts}
    ${
      terms || scopes
        ? `<h2>동의 항목 <span class="en">· Consent</span></h2>
    <label class="item all"><input type="checkbox" id="all" checked> 전체 동의하기 · Agree to all</label>
    <p class="note-all">전체 동의는 선택 항목에 대한 동의를 포함하며, 선택 항목에 동의하지 않아도 서비스를 이용할 수 있습니다.
    Agreeing to all includes the optional items; the service works without them.</p>
    ${terms ? `<div class="group terms">${terms}</div>` : ''}
    ${
      scopes
        ? `<div class="group scopes"><p class="provider">카카오 개인정보 제3자 제공 동의 · 제공받는 자: ${appName}</p>
    ${scopes}</div>`
        : ''
    }`
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
  return `${HEAD(`${code} · 카카오 로그인 오류`)}
<body><main>
  ${BRAND}
  <p class="lead">잠시 후 다시 시도해 주세요<span class="en">Kakao Login could not continue.</span></p>
  <div class="error" role="alert"><b>${esc(code)}</b> ${esc(message)}</div>
  <p class="note">Kakao shows this page instead of calling the redirect URI (KAKAO_API.md 1).</p>
</main></body></html>`;
}
