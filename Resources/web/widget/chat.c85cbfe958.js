var n="functional";function o(t,e){return{el:t,rt:e,open(){},close(){},toggle(){},identify(){}}}export{n as consent,o as mount};
