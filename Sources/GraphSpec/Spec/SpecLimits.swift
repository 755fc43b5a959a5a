/// The bounds the spec compiler enforces on what a spec asks for, so that any input, however large or hostile,
/// ends in a located error within seconds and bounded memory instead of a trap, a hang or unbounded growth.
/// Each is far above what real models need (HuBERT base lowers to 212 nodes); docs/graph-language.md lists them.
public enum SpecLimits {
    /// Repetitions of one block node (`repeat:`).
    public static let repeatCount = 10_000
    /// The magnitude of a repeat's first index (`repeat: {from: ...}`).
    public static let repeatStart = 1 << 40
    /// Nodes of a lowered graph, parameters included.
    public static let nodes = 50_000
    /// Bytes of one spec file (regular files only: devices, FIFOs and directories are refused).
    public static let fileBytes = 1 << 20
    /// Spec files read for one compilation: the spec and its imports, counted once per import.
    public static let modules = 64
    /// The size of a config value or expression result: one for each value in it (a list and each of its items,
    /// nested lists counted whole) plus the UTF-8 bytes of its strings.
    public static let valueSize = 1 << 20
    /// Depth of config references (`a: "${b}"`, `b: "${c}"`, ...).
    public static let referenceDepth = 256
}
