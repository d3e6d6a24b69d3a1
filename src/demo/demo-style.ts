/**
 * The demo page's stylesheet, served as /demo/assets/demo.css (kept in code so that `nest build` ships it
 * in dist/ with nothing else to copy). The Kakao login button follows Kakao's design guide: container
 * #FEE500, symbol #000000, label #000000 at 85 %, radius 12 px; the standard wide button is 300 × 45 with an
 * 18 px symbol and a 15 px label (30 pt on the 2× original), and when it grows wider the symbol stays left
 * and the label centred (https://developers.kakao.com/docs/latest/ko/kakaologin/design-guide).
 */
export const DEMO_CSS = `
*{box-sizing:border-box}
[hidden]{display:none !important}
html{-webkit-text-size-adjust:100%}
body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"Apple SD Gothic Neo","Malgun Gothic","Noto Sans KR","NanumGothic",sans-serif;
  background:#f4f4f5;color:#191919;font-size:14px;line-height:1.5}
a{color:#0b57d0}
.en{color:#8a8a8a;font-weight:400}
button .en,.kakao-login .en{color:inherit;opacity:.7}
.muted{color:#777}
.top{display:flex;align-items:center;justify-content:space-between;padding:14px 24px;background:#fff;border-bottom:1px solid #e7e7e7}
.brand{font-weight:800;font-size:17px;letter-spacing:-.3px;display:flex;align-items:center;gap:8px}
.brand .dot{width:14px;height:14px;border-radius:50%;background:#FEE500;box-shadow:inset 0 0 0 1px rgba(0,0,0,.08)}
.chip{font-size:11px;font-weight:600;background:#191919;color:#FEE500;border-radius:8px;padding:1px 7px}
.top nav a{font-size:13px;color:#444;text-decoration:none;border:1px solid #ddd;border-radius:8px;padding:5px 10px}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 400px;gap:20px;max-width:1180px;margin:22px auto;padding:0 20px;align-items:start}
@media (max-width:960px){.layout{grid-template-columns:1fr}}
.card{background:#fff;border-radius:14px;padding:22px 24px;box-shadow:0 1px 4px rgba(0,0,0,.06);margin-bottom:16px}
.card h2{font-size:18px;margin:0 0 4px;letter-spacing:-.3px}
.card h3{font-size:14px;margin:20px 0 8px;color:#333}
.card > p.lead{margin:0 0 16px;color:#555}
.foot{max-width:1180px;margin:0 auto 30px;padding:0 20px;color:#999;font-size:12px}

/* Kakao login button (design guide: colours, radius, proportions) */
.kakao-login{position:relative;display:flex;align-items:center;justify-content:center;width:100%;max-width:420px;height:45px;
  padding:0 14px;background:#FEE500;color:rgba(0,0,0,.85);border-radius:12px;text-decoration:none;cursor:pointer;
  font-size:15px;font-weight:500;letter-spacing:0}
.kakao-login .kakao-symbol{position:absolute;left:14px;top:50%;margin-top:-9px}
.kakao-login:focus-visible{outline:3px solid #191919;outline-offset:2px}
.login-options{margin:10px 0 0;font-size:13px;color:#555;display:flex;gap:6px;align-items:center}

.divider{display:flex;align-items:center;gap:12px;color:#999;font-size:12px;margin:24px 0 18px;max-width:420px}
.divider:before,.divider:after{content:"";flex:1;height:1px;background:#e5e5e5}
.tabs{display:flex;gap:4px;margin-bottom:14px;max-width:420px;background:#f1f1f2;border-radius:10px;padding:4px}
.tabs button{flex:1;border:0;background:transparent;border-radius:8px;padding:8px;font-size:13px;cursor:pointer;color:#555}
.tabs button[aria-selected="true"]{background:#fff;color:#191919;font-weight:700;box-shadow:0 1px 2px rgba(0,0,0,.08)}
form.stack{display:flex;flex-direction:column;gap:10px;max-width:420px}
form.stack label{display:flex;flex-direction:column;gap:4px;font-size:13px;color:#444}
.caption{display:block}
input[type=email],input[type=password],input[type=text]{font:inherit;padding:10px 12px;border:1px solid #d9d9d9;border-radius:10px;background:#fff}
input:focus{outline:2px solid #191919;outline-offset:0;border-color:transparent}
button{font:inherit}
.btn{display:inline-block;border:0;border-radius:10px;padding:10px 14px;font-size:14px;cursor:pointer;background:#f0f0f1;color:#191919;white-space:nowrap;text-decoration:none}
.btn:hover{filter:brightness(.97)}
.btn.primary{background:#191919;color:#fff}
.btn.primary .en{color:#fff}
.btn.kakao{background:#FEE500;color:rgba(0,0,0,.85)}
.btn.danger{background:#fff;color:#c62828;box-shadow:inset 0 0 0 1px #f2c4c4}
.btn.small{padding:5px 10px;font-size:12px;border-radius:8px}
.btn:disabled{opacity:.5;cursor:default}
.actions{display:flex;flex-wrap:wrap;gap:8px;margin-top:14px}

.notice{border-radius:10px;padding:10px 14px;margin-bottom:16px;font-size:13px}
.notice.info{background:#eef4ff;color:#1a3d7c}
.notice.success{background:#e9f7ef;color:#1b5e20}
.notice.error{background:#fdecec;color:#b00020}
.notice code{background:rgba(0,0,0,.06);border-radius:4px;padding:0 4px}

.profile{display:flex;gap:16px;align-items:center}
.avatar{width:64px;height:64px;border-radius:50%;background:#FEE500;display:flex;align-items:center;justify-content:center;
  font-size:26px;font-weight:700;color:#3c1e1e;flex:none;overflow:hidden}
.avatar img{width:100%;height:100%;object-fit:cover}
.who{font-size:18px;font-weight:700}
.candidate .who{font-size:16px}
.badge{display:inline-block;font-size:11px;border-radius:8px;padding:1px 7px;margin-left:6px;background:#eee;color:#555;font-weight:600;vertical-align:middle}
.badge.ok{background:#e3f4e8;color:#1b5e20}
.badge.warn{background:#fff3d6;color:#8a5a00}
.badge.kakao{background:#FEE500;color:#3c1e1e}
table.kv{border-collapse:collapse;width:100%;font-size:13px}
table.kv th{text-align:left;color:#777;font-weight:500;padding:5px 10px 5px 0;width:34%;vertical-align:top}
table.kv td{padding:5px 0;word-break:break-all}
table.list{border-collapse:collapse;width:100%;font-size:13px}
table.list th{text-align:left;color:#777;font-weight:500;border-bottom:1px solid #eee;padding:6px 8px 6px 0}
table.list td{border-bottom:1px solid #f3f3f3;padding:8px 8px 8px 0;vertical-align:middle}
.mark{font-size:12px;font-weight:700;margin-right:4px}.mark.req{color:#e65100}.mark.opt{color:#888}

.screen-kicker{font-size:12px;font-weight:700;color:#8a5a00;letter-spacing:.4px;margin-bottom:6px}
.candidate{display:flex;gap:14px;align-items:center;border:1px solid #eee;border-radius:12px;padding:14px;margin:14px 0;max-width:460px}
.candidate .avatar{width:44px;height:44px;font-size:18px;background:#f1f1f2;color:#555}
.checklist{max-width:480px;margin:10px 0}
.checklist label{display:flex;gap:10px;align-items:center;padding:10px 2px;border-bottom:1px solid #f0f0f0;cursor:pointer}
.checklist label.all{font-weight:700;border-bottom:2px solid #191919}
.checklist label.missing{background:#fffbe6}
.checklist a{margin-left:auto;font-size:12px;color:#888}
ul.items{margin:8px 0 0;padding-left:18px}

aside .card{padding:18px}
aside h2{font-size:14px !important}
pre.json{margin:8px 0 0;background:#1e1e1e;color:#e6e6e6;border-radius:10px;padding:12px;font-size:12px;line-height:1.45;
  max-height:460px;overflow:auto;white-space:pre-wrap;word-break:break-all}
ol.activity{list-style:none;margin:8px 0 0;padding:0;font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;max-height:260px;overflow:auto}
ol.activity li{display:flex;gap:8px;padding:3px 0;border-bottom:1px dashed #eee}
ol.activity .st{min-width:32px;font-weight:700}
ol.activity .st.ok{color:#1b5e20}ol.activity .st.err{color:#b00020}
ol.activity .rid{margin-left:auto;color:#aaa}
`;
