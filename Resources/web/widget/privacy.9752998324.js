var d=class extends Error{constructor(r,e,t,a={},s=0){super(t);this.status=r;this.code=e;this.details=a;this.retryAfter=s}};async function y(i,o,r={}){let e={Accept:"application/json",...r.headers};r.body!==void 0&&(e["Content-Type"]="application/json");let t;try{t=await fetch(i.base+o,{method:r.method||(r.body===void 0?"GET":"POST"),headers:e,body:r.body===void 0?void 0:JSON.stringify(r.body),credentials:"omit"})}catch(s){throw new d(0,"network",String(s))}let a=null;try{a=await t.json()}catch{}if(!t.ok){let s=a&&a.error||{};throw new d(t.status,s.code||"http_"+t.status,s.message||t.statusText,s.details||{},Number(t.headers.get("Retry-After"))||0)}return a}function n(i,o,...r){let e=document.createElement(i);for(let t in o){let a=o[t];a==null||a===!1||(typeof a=="function"?e.addEventListener(t.slice(2),a):e.setAttribute(t,a===!0?"":String(a)))}for(let t of r)t!=null&&t!==!1&&e.append(t);return e}var v=new Map;function S(i,o){if("adoptedStyleSheets"in i&&"replaceSync"in CSSStyleSheet.prototype){let r=v.get(o);r||(r=new CSSStyleSheet,r.replaceSync(o),v.set(o,r)),i.adoptedStyleSheets=[r]}else i.querySelector("style")?.remove(),i.prepend(n("style",null,o))}var w=`
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
`;var z="necessary",D=["frontdesk-privacy-request"],A={title:"Your data",intro:"Ask for a copy of the data we hold about you, or for its erasure. We confirm by e-mail first.",access:"Send me a copy of my data",erasure:"Erase my data",email:"Your e-mail address",send:"Send request",sending:"Sending…",sent:"Check your mailbox: open the link we sent to {email} to confirm your request. Nothing happens until you do.",invalid:"Please enter a valid e-mail address.",failed:"Something went wrong. Please try again."},C={title:"Ihre Daten",intro:"Fordern Sie eine Kopie Ihrer bei uns gespeicherten Daten an oder deren Löschung. Wir bestätigen zuerst per E-Mail.",access:"Kopie meiner Daten senden",erasure:"Meine Daten löschen",email:"Ihre E-Mail-Adresse",send:"Anfrage senden",sending:"Wird gesendet…",sent:"Bitte sehen Sie in Ihr Postfach: Öffnen Sie den Link, den wir an {email} gesendet haben, um Ihre Anfrage zu bestätigen. Vorher geschieht nichts.",invalid:"Bitte geben Sie eine gültige E-Mail-Adresse ein.",failed:"Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut."},E={en:A,de:C},R=w+`
.pr{max-width:560px}
.pr fieldset{border:0;margin:0 0 12px;padding:0;display:flex;flex-direction:column;gap:6px}
.pr label.o{display:flex;gap:8px;align-items:center}
`;function K(i,o){let r=o.locale(i),e=E[r],t=i.shadowRoot||i.attachShadow({mode:"open"});S(t,R);let a=n("div",{class:"fd pr","data-theme":o.theme(i),lang:r}),s=n("p",{class:"sr",role:"status","aria-live":"polite"});t.replaceChildren(a,s);let b=i.getAttribute("kind")=="erasure"?"erasure":"access",x=(m,f)=>n("label",{class:"o"},n("input",{type:"radio",name:"kind",value:m,checked:m==b}),f),l=n("p",{class:"err",id:"e-email",hidden:!0}),c=n("input",{class:"in",id:"i-email",name:"email",type:"email",autocomplete:"email",required:!0,"aria-required":"true","aria-describedby":"e-email"}),p=n("button",{class:"btn",type:"submit"},e.send),g=n("form",{novalidate:!0},n("h2",null,e.title),n("p",{class:"note"},e.intro),n("fieldset",null,x("access",e.access),x("erasure",e.erasure)),n("div",{class:"f"},n("label",{for:"i-email"},e.email),c,l),n("div",{class:"row"},p));g.onsubmit=async m=>{if(m.preventDefault(),p.disabled)return;let f=c.value.trim();if(l.hidden=!0,c.removeAttribute("aria-invalid"),!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(f)){l.textContent=e.invalid,l.hidden=!1,c.setAttribute("aria-invalid","true"),c.focus();return}let k=g.querySelector("input[name=kind]:checked")?.value||b;p.disabled=!0,p.setAttribute("aria-busy","true"),s.textContent=e.sending;try{await y(o,"api/v1/privacy/requests",{body:{kind:k,email:f}});let u=n("div",{class:"alert ok",role:"status"},n("p",null,e.sent.replace("{email}",f)));a.replaceChildren(u),s.textContent=e.sent.replace("{email}",f)}catch(u){let h=u instanceof d?u:new d(0,"client",String(u));l.textContent=h.details.email?e.invalid:h.status==422?h.message:e.failed,l.hidden=!1,c.setAttribute("aria-invalid","true"),s.textContent=""}finally{p.disabled=!1,p.setAttribute("aria-busy","false")}},a.replaceChildren(g)}export{z as consent,D as elements,K as mount};
