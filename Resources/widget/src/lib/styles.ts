/**
 * Styles shared by every Frontdesk element, adopted into its shadow root.
 *
 * Isolation: site rules cannot select inside a shadow root, but they do reach the host element
 * and what it inherits. `:host { all: initial !important }` wins over any site rule, even an
 * `!important` one (for important declarations the shadow tree's own rule wins), and sizes are
 * in px, never rem, so a site's `html { font-size }` changes nothing inside.
 *
 * Theming: sites set `--frontdesk-accent`, `--frontdesk-on-accent`, `--frontdesk-bg`,
 * `--frontdesk-fg`, `--frontdesk-radius` and `--frontdesk-font` (custom properties inherit through
 * the shadow boundary, and `all` never resets them); `data-theme` picks light, dark or auto.
 * The default colours meet WCAG 2.2 AA: text ≥ 4.5:1, borders and focus rings ≥ 3:1.
 */

export const BASE_CSS = `
:host{all:initial!important;display:block!important}
:host([hidden]){display:none!important}
.fd{--a:var(--frontdesk-accent,#1d4ed8);--oa:var(--frontdesk-on-accent,#fff);--bg:var(--frontdesk-bg,#fff);--fg:var(--frontdesk-fg,#1f2328);
--mu:#57606a;--ln:#6e7781;--sf:#f3f4f6;--er:#b42318;--ok:#116329;--r:var(--frontdesk-radius,10px);
font:15px/1.5 var(--frontdesk-font,system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif);
color:var(--fg);text-align:left;letter-spacing:normal;word-spacing:normal;text-transform:none;direction:ltr;box-sizing:border-box}
.fd[data-theme=dark]{--a:var(--frontdesk-accent,#8ab4f8);--oa:var(--frontdesk-on-accent,#0d1117);--bg:var(--frontdesk-bg,#161b22);--fg:var(--frontdesk-fg,#e6edf3);
--mu:#9da7b1;--ln:#8b949e;--sf:#21262d;--er:#ff8a80;--ok:#56d364;color-scheme:dark}
@media (prefers-color-scheme:dark){.fd[data-theme=auto]{--a:var(--frontdesk-accent,#8ab4f8);--oa:var(--frontdesk-on-accent,#0d1117);--bg:var(--frontdesk-bg,#161b22);--fg:var(--frontdesk-fg,#e6edf3);
--mu:#9da7b1;--ln:#8b949e;--sf:#21262d;--er:#ff8a80;--ok:#56d364;color-scheme:dark}}
.fd *,.fd *::before,.fd *::after{box-sizing:border-box}
.fd [hidden]{display:none!important}
:where(.fd) :where(h2,h3,p){margin:0}
.fd h2,.fd h3{font-size:17px;line-height:1.3;font-weight:650}
:where(.fd) :where(button,input,textarea,select){font:inherit;color:inherit;margin:0}
.fd :focus-visible{outline:3px solid var(--a);outline-offset:2px}
.btn{display:inline-flex;align-items:center;justify-content:center;gap:6px;min-height:44px;padding:10px 18px;border:0;border-radius:var(--r);
background:var(--a);color:var(--oa);font-weight:600;cursor:pointer;transition:filter .15s}
.btn:hover{filter:brightness(1.1)}
.btn[disabled],.btn[aria-busy=true]{opacity:.7;cursor:progress}
.btn.ghost{background:transparent;color:var(--fg);border:1px solid var(--ln)}
.sr{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
.f{display:flex;flex-direction:column;gap:4px;margin:0 0 14px}
.f>label,.f legend{font-weight:600;font-size:14px}
.opt{font-weight:400;color:var(--mu)}
.in{width:100%;min-height:44px;padding:9px 11px;border:1px solid var(--ln);border-radius:calc(var(--r) - 4px);background:var(--bg);color:var(--fg)}
textarea.in{min-height:120px;resize:vertical}
.in[aria-invalid=true]{border-color:var(--er);border-width:2px}
.err{color:var(--er);font-size:14px}
.alert{padding:10px 12px;border-radius:calc(var(--r) - 4px);border:1px solid var(--er);color:var(--er);margin:0 0 14px}
.note{color:var(--mu);font-size:13px;margin:0 0 14px}
.chk{display:flex;gap:8px;align-items:flex-start;font-weight:400}
.chk input{width:18px;height:18px;margin-top:3px;accent-color:var(--a)}
.hp{position:absolute!important;left:-10000px!important;width:1px;height:1px;overflow:hidden}
.done{padding:18px;border:1px solid var(--ok);border-radius:var(--r)}
.done h3{color:var(--ok);margin-bottom:6px}
.done p{margin-bottom:12px}
.row{display:flex;gap:10px;flex-wrap:wrap;align-items:center}
@media (prefers-reduced-motion:reduce){.fd,.fd *,.fd *::before,.fd *::after{transition:none!important;animation:none!important;scroll-behavior:auto!important}}
`;
