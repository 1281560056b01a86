import { defineSweep } from "./sweep.ts";

defineSweep("seeds 1-120", 1, 120, true);
