// Tells native binaries apart by their first bytes, so that a deployment package keeps the
// binaries of its own platform (ELF for the function's machine) and drops every other platform's
// (Mach-O, PE/COFF, ELF for another machine) whatever the package's directory layout.

/** ELF `e_machine` values of Lambda's two architectures. */
export const ELF_MACHINE = Object.freeze({ x86_64: 62, arm64: 183 });

/** What a file's header says it is. */
export type BinaryKind =
  { readonly kind: 'elf'; readonly machine: number } | { readonly kind: 'mach-o' } | { readonly kind: 'pe' } | { readonly kind: 'other' };

/** The number of leading bytes {@link binaryKind} needs. */
export const BINARY_HEADER_BYTES = 20;

// Extensions that only other platforms load: macOS dylibs, Windows DLLs, their debug symbols
// and import libraries.
const FOREIGN_EXTENSIONS = /\.(?:dylib|dll|exe|pdb|lib|exp)$/i;
// PE files start with "MZ"; only trust that on names a loader would open (a text file may start with "MZ").
const PE_EXTENSIONS = /\.(?:node|dll|exe|sys)$/i;

/**
 * Classifies a file from its first {@link BINARY_HEADER_BYTES} bytes (and its name).
 * @example binaryKind(readFileSync('onnxruntime_binding.node').subarray(0, 20), 'onnxruntime_binding.node')
 */
export function binaryKind(header: Buffer, name: string): BinaryKind {
  if (header.length >= 20 && header.readUInt32BE(0) === 0x7f454c46) {
    // EI_DATA (byte 5): 1 little-endian, 2 big-endian; e_machine is the half-word at offset 18.
    const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
    return { kind: 'elf', machine };
  }
  if (header.length >= 4) {
    const magic = header.readUInt32BE(0);
    // 32/64-bit Mach-O in either byte order; 0xcafebabe (universal) only for a library-like name,
    // since Java class files share it.
    if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].includes(magic)) return { kind: 'mach-o' };
    if (magic === 0xcafebabe && /\.(?:node|dylib|so)$/i.test(name)) return { kind: 'mach-o' };
  }
  if (header.length >= 2 && header[0] === 0x4d && header[1] === 0x5a && PE_EXTENSIONS.test(name)) return { kind: 'pe' };
  return { kind: 'other' };
}

/**
 * Whether a file belongs in a package for Linux on `machine` (an {@link ELF_MACHINE} value): ELF
 * files only for that machine, no Mach-O or PE files, nothing with another platform's extension.
 */
export function belongsToPlatform(header: Buffer, name: string, machine: number): boolean {
  const kind = binaryKind(header, name);
  if (kind.kind === 'elf') return kind.machine === machine;
  if (kind.kind !== 'other') return false;
  return !FOREIGN_EXTENSIONS.test(name);
}
