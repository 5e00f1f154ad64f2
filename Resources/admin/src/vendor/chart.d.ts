// The part of Chart.js 3 (Debian's libjs-chart.js, bundled by build.sh from
// /usr/share/javascript/chart.js/chart.esm.js through esbuild's alias) that the console uses.
declare module "chart.js" {
  export class Chart {
    constructor(canvas: HTMLCanvasElement, config: any);
    static register(...items: any[]): void;
    data: any;
    options: any;
    update(mode?: string): void;
    destroy(): void;
  }
  export const LineController: any;
  export const LineElement: any;
  export const PointElement: any;
  export const BarController: any;
  export const BarElement: any;
  export const LinearScale: any;
  export const CategoryScale: any;
  export const Tooltip: any;
  export const Filler: any;
  export const Legend: any;
}
