import type { ConsentCategory, Runtime } from "./lib/types";
export const consent: ConsentCategory = "functional";
export function mount(el: HTMLElement, rt: Runtime) { return { el, rt, open() {}, close() {}, toggle() {}, identify() {} }; }
