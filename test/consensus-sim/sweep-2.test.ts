import { defineSweep } from "./sweep.ts";

defineSweep("seeds 121-240", 121, 120, false);
