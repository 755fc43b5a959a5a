import Foundation

/// The repository root, found from this file's path (Tests/GraphSpecTests/Paths.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A spec of graphs/ by file name.
func graphPath(_ name: String) -> String { repositoryRoot.appendingPathComponent("graphs").appendingPathComponent(name).path }
