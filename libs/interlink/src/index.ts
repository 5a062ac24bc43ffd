// libs/interlink: the interlink frame codec (ARCHITECTURE §7), pure (no sockets), shared by
// every node that dials or accepts links. The layout is documented in frame-format.ts.
export {
  FRAME_VERSION,
  HEADER_ALLOWANCE,
  MAX_ID_BYTES,
  MAX_SHORT_STRING_BYTES,
  maxBodyBytes,
  maxFrameBytes,
} from './frame-format';
export type { InterlinkEnvelope, InterlinkFrame, InterlinkHello } from './frame-types';
export {
  encodeAckFrame,
  encodeFrame,
  encodeHelloFrame,
  encodeStanzaFrame,
  FrameEncodeError,
  type EncodeLimits,
  type FrameEncodeErrorCode,
} from './encode-frame';
export {
  decodeFrameBody,
  FrameDecodeError,
  FrameDecoder,
  type DecodeResult,
  type FrameDecodeErrorCode,
  type FrameDecoderOptions,
} from './frame-decoder';
