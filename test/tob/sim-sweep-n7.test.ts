// CI sweep of the consensus simulator with n = 7 (f = 2 Byzantine).
import { sweep } from "./sweep.js";

sweep(7);
