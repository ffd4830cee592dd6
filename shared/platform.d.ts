// shared/ compiles without DOM and Node types so it cannot lean on either platform by accident.
// TextEncoder/TextDecoder are the only globals it uses: both Node (≥ 11) and every browser have them.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
