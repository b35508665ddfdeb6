/** Shape shared by the per-type information-object codecs. */
export interface ObjectCodec<T> {
  /** Bytes per object. */
  size: number;
  decode(buf: Buffer, offset: number): T;
  encode(obj: T): Buffer;
}
