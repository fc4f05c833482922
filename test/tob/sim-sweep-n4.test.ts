// CI sweep of the consensus simulator with n = 4 (f = 1 Byzantine).
import { sweep } from "./sweep.js";

sweep(4);
