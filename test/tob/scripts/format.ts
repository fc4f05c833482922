// The format of the consensus-core scripts (test/tob/scripts/*.json): one core ("me") of an n-node
// epoch-0 network, the blocks, certificates and timeouts the others send it (named, built and
// signed by the runner), and steps of input in, intents out. Only the `out` fields a step lists are
// checked, each exactly (an empty list means "none"). Names: "genesis" is the genesis block and
// its round-0 QC; a block the core proposes is named by the `as` of the expected proposal.

export interface Script {
  readonly description: string;
  readonly n: number;
  /** Index of the core under test. */
  readonly me: number;
  /** Blocks others propose. `author` defaults to round mod n (the leader while the chain is short). */
  readonly blocks?: Readonly<Record<string, BlockSpec>>;
  /** Quorum certificates (or short ones the core must refuse): a block and its signers. */
  readonly qcs?: Readonly<Record<string, { readonly block: string; readonly signers: readonly number[] }>>;
  /** Timeout certificates: each signer reports the QC it held (by name). */
  readonly tcs?: Readonly<
    Record<string, { readonly round: number; readonly reports: Readonly<Record<string, string>> }>
  >;
  readonly steps: readonly ScriptStep[];
}

export interface BlockSpec {
  readonly round: number;
  /** The QC the block carries; it certifies the parent. */
  readonly qc: string;
  readonly author?: number;
  readonly requests?: readonly string[];
}

export interface ScriptStep {
  /** Why the step expects what it expects (printed when it fails). */
  readonly note?: string;
  readonly in: StepInput;
  readonly out?: StepOutput;
}

export type StepInput =
  | { readonly tick: number }
  | { readonly submit: readonly string[] }
  | { readonly proposal: string; readonly tc?: string; readonly from?: number }
  | { readonly vote: string; readonly signer: number }
  | {
      readonly timeout: {
        readonly round: number;
        readonly signer: number;
        readonly hqc: string;
        readonly lastTC?: string;
      };
    };

export interface StepOutput {
  /** Votes sent (a vote for a round we lead ourselves stays local and is not listed). */
  readonly votes?: readonly { readonly block: string; readonly to: readonly number[] }[];
  /** Proposals sent: the round, the parent, and the round of the TC it carries (if any). */
  readonly proposals?: readonly {
    readonly as: string;
    readonly round: number;
    readonly parent: string;
    readonly tc?: number;
  }[];
  /** Timeouts sent: their round and the block of the high QC they report. */
  readonly timeouts?: readonly { readonly round: number; readonly hqc: string }[];
  /** Blocks delivered (committed), in order. */
  readonly deliveries?: readonly string[];
  readonly evidence?: readonly { readonly kind: string; readonly signer: number }[];
  /** Reason codes of refused input. */
  readonly rejected?: readonly string[];
  readonly status?: {
    readonly round?: number;
    readonly highQCRound?: number;
    readonly lastVotedRound?: number;
    readonly committedHeight?: number;
  };
}
