/// Where a training run keeps its files, under the run folder given with `--out`:
///
///     run.json                          the spec, overrides, classes, seed and fold of the run
///     <fold>/<stage>/checkpoint/        the latest checkpoint (parameters, optimizer, progress, losses)
///     <fold>/<stage>/best.safetensors   the parameters of the epoch with the best validation UAR
///     <fold>/<stage>/final.safetensors  the parameters the stage hands on (best if validated, else last); written
///                                       last, so its presence means the stage is done
///     <fold>/report/                    metrics.json, confusion matrices, losses.csv/svg, the resolved spec
public struct RunLayout: Sendable {
    public var root: String

    public init(root: String) { self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root }

    public var runFile: String { root + "/run.json" }
    public func foldFolder(_ fold: String) -> String { root + "/" + Report.safeName(fold) }
    public func stageFolder(fold: String, stage: String) -> String { foldFolder(fold) + "/" + stage }
    public func checkpoint(fold: String, stage: String) -> String { stageFolder(fold: fold, stage: stage) + "/checkpoint" }
    public func best(fold: String, stage: String) -> String { stageFolder(fold: fold, stage: stage) + "/best.safetensors" }
    public func final(fold: String, stage: String) -> String { stageFolder(fold: fold, stage: stage) + "/final.safetensors" }
    public func report(fold: String) -> String { foldFolder(fold) + "/report" }
}
