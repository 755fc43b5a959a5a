extension Graph {
    /// The smallest value of the input symbol `symbol` (`S`, samples) for which every dimension of the outputs and
    /// taps that mentions it is at least 1 (other symbols taken as 1): the shortest input the graph can run, so that
    /// a too-short file is refused naming the file, not the first convolution it would empty. Nil when no output
    /// mentions the symbol or none up to 2^31 suffices. Window lengths grow with their input, so the search is a
    /// bisection.
    public func shortestInput(_ symbol: String) -> Int? {
        let dims = (outputs + taps).flatMap { self[$0.value].type.shape }.filter { $0.symbols.contains(symbol) }
        guard !dims.isEmpty else { return nil }
        func fits(_ value: Int) -> Bool {
            dims.allSatisfy { dim in
                var bindings = [symbol: value]
                for other in dim.symbols where other != symbol { bindings[other] = 1 }
                return (dim.evaluate(bindings) ?? 0) >= 1
            }
        }
        var low = 1, high = 1 << 31
        guard fits(high) else { return nil }
        while low < high {
            let middle = low + (high - low) / 2
            if fits(middle) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
