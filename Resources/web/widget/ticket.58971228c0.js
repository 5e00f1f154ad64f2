var l=class extends Error{constructor(n,t,a,i={},d=0){super(a);this.status=n;this.code=t;this.details=i;this.retryAfter=d}};async function x(o,s,n={}){let t={Accept:"application/json",...n.headers};n.body!==void 0&&(t["Content-Type"]="application/json");let a;try{a=await fetch(o.base+s,{method:n.method||(n.body===void 0?"GET":"POST"),headers:t,body:n.body===void 0?void 0:JSON.stringify(n.body),credentials:"omit"})}catch(d){throw new l(0,"network",String(d))}let i=null;try{i=await a.json()}catch{}if(!a.ok){let d=i&&i.error||{};throw new l(a.status,d.code||"http_"+a.status,d.message||a.statusText,d.details||{},Number(a.headers.get("Retry-After"))||0)}return i}function e(o,s,...n){let t=document.createElement(o);for(let a in s){let i=s[a];i==null||i===!1||(typeof i=="function"?t.addEventListener(a.slice(2),i):t.setAttribute(a,i===!0?"":String(i)))}for(let a of n)a!=null&&a!==!1&&t.append(a);return t}var C=new Map;function R(o,s){if("adoptedStyleSheets"in o&&"replaceSync"in CSSStyleSheet.prototype){let n=C.get(s);n||(n=new CSSStyleSheet,n.replaceSync(s),C.set(s,n)),o.adoptedStyleSheets=[n]}else o.querySelector("style")?.remove(),o.prepend(e("style",null,s))}function E(){return crypto.randomUUID?crypto.randomUUID():Array.from(crypto.getRandomValues(new Uint8Array(16)),o=>o.toString(16).padStart(2,"0")).join("")}function N(o,s){let n=new Date(o);return isNaN(+n)?o:n.toLocaleString(s,{dateStyle:"medium",timeStyle:"short"})}var L=`
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
`;var W="necessary",Y=["frontdesk-ticket"],P={title:"Ticket #{id}",status:"Status",priority:"Priority",open:"Open","in-progress":"In progress",resolved:"Resolved",closed:"Closed",low:"Low",medium:"Medium",high:"High",urgent:"Urgent",you:"You",agent:"Support team",system:"Frontdesk",thread:"Conversation",reply:"Your reply",send:"Send reply",sending:"Sending…",sent:"Your reply was sent.",reopen:"Replying reopens this ticket.",loading:"Loading your ticket…",notFound:"We could not find this ticket. The link may be incomplete — please open it again from your email.",failed:"Something went wrong. Please try again.",retry:"Try again"},j={title:"Ticket #{id}",status:"Status",priority:"Priorität",open:"Offen","in-progress":"In Bearbeitung",resolved:"Gelöst",closed:"Geschlossen",low:"Niedrig",medium:"Mittel",high:"Hoch",urgent:"Dringend",you:"Sie",agent:"Support-Team",system:"Frontdesk",thread:"Verlauf",reply:"Ihre Antwort",send:"Antwort senden",sending:"Wird gesendet…",sent:"Ihre Antwort wurde gesendet.",reopen:"Mit einer Antwort wird dieses Ticket wieder geöffnet.",loading:"Ihr Ticket wird geladen…",notFound:"Wir konnten dieses Ticket nicht finden. Der Link ist vielleicht unvollständig — bitte öffnen Sie ihn erneut aus Ihrer E-Mail.",failed:"Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",retry:"Erneut versuchen"},D={en:P,de:j},H=L+`
.tk{max-width:720px}
.tk header{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:baseline;margin:0 0 16px}
.tk h2{font-size:22px;flex:1 1 100%}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;background:var(--sf);font-size:13px;font-weight:600}
.thread{list-style:none;margin:0 0 20px;padding:0;display:flex;flex-direction:column;gap:12px}
.msg{padding:12px 14px;border:1px solid var(--ln);border-radius:var(--r);background:var(--bg)}
.msg.agent{border-left:4px solid var(--a)}
.msg.system{border-style:dashed;color:var(--mu)}
.meta{display:flex;gap:8px;flex-wrap:wrap;font-size:13px;color:var(--mu);margin:0 0 6px}
.meta strong{color:var(--fg)}
.body{white-space:pre-wrap;overflow-wrap:anywhere}
`;function V(o,s){let n=s.locale(o),t=D[n],a=o.shadowRoot||o.attachShadow({mode:"open"});R(a,H);let i=e("div",{class:"fd tk","data-theme":s.theme(o),lang:n}),d=e("p",{class:"sr",role:"status","aria-live":"polite"});a.replaceChildren(i,d);let M=new URLSearchParams(location.search),I=new URLSearchParams(location.hash.slice(1)),v=o.getAttribute("ticket-id")||M.get("id")||"",g=o.getAttribute("token")||I.get("token")||"",w={Authorization:"Bearer "+g},k="api/v1/tickets/"+encodeURIComponent(v),h=null,S=r=>t[r]||r,T=r=>e("li",{class:"msg "+r.author},e("p",{class:"meta"},e("strong",null,r.author=="customer"?t.you:r.author=="agent"?r.authorName||t.agent:t.system),e("time",{datetime:r.createdAt},N(r.createdAt,n))),e("div",{class:"body"},r.body)),z=r=>{let f=e("ol",{class:"thread","aria-label":t.thread},T({author:"customer",body:r.description,createdAt:r.createdAt}),...r.messages.map(T)),c=e("p",{class:"err",id:"e-body",hidden:!0}),p=e("textarea",{class:"in",id:"i-body",name:"body",rows:5,required:!0,"aria-required":"true","aria-describedby":"e-body n-body",oninput:()=>h=null}),u=e("button",{class:"btn",type:"submit"},t.send),U=r.status=="resolved"||r.status=="closed",A=e("form",{novalidate:!0},e("div",{class:"f"},e("label",{for:"i-body"},t.reply),p,c,e("p",{class:"note",id:"n-body",hidden:!U},t.reopen)),e("div",{class:"row"},u));A.onsubmit=async q=>{if(q.preventDefault(),!u.disabled){u.disabled=!0,u.setAttribute("aria-busy","true"),d.textContent=t.sending,c.hidden=!0,p.removeAttribute("aria-invalid");try{await x(s,k+"/messages",{body:{body:p.value},headers:{...w,"Idempotency-Key":h||(h=E())}}),h=null,p.value="",await m(),d.textContent=t.sent,i.querySelector("#i-body")?.focus()}catch(b){let y=b instanceof l?b:new l(0,"client",String(b));c.textContent=y.details.body||(y.status==422?y.message:t.failed),c.hidden=!1,p.setAttribute("aria-invalid","true"),p.focus(),d.textContent=""}finally{u.disabled=!1,u.setAttribute("aria-busy","false")}}},i.replaceChildren(e("header",null,e("h2",null,t.title.replace("{id}",String(r.id))+" — "+r.subject),e("span",null,t.status+": ",e("span",{class:"badge"},S(r.status))),e("span",null,t.priority+": ",e("span",{class:"badge"},S(r.priority)))),f,A)},m=async()=>{try{z(await x(s,k,{headers:w}))}catch(r){let f=r instanceof l?r:new l(0,"client",String(r)),c=e("button",{class:"btn ghost",type:"button",onclick:()=>m()},t.retry);i.replaceChildren(e("div",{class:"alert",role:"alert"},e("p",null,f.status==404||!g?t.notFound:t.failed),f.status==404?null:c))}};if(i.replaceChildren(e("p",{class:"note",role:"status"},t.loading)),!v||!g){i.replaceChildren(e("div",{class:"alert",role:"alert"},e("p",null,t.notFound)));return}m()}export{W as consent,Y as elements,V as mount};
