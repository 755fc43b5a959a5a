import GraphIR

/// Concrete sizes for a graph's symbolic dimensions, bound from the shapes of the inputs of one call.
struct ShapeBinding {
    private(set) var symbols: [String: Int] = [:]
    /// Where each symbol was bound, for messages (`input 'wave' axis 0`).
    private var origins: [String: String] = [:]

    /// Binds the symbols of `declared` from `actual`, or explains the mismatch.
    mutating func bind(_ declared: TensorType, to tensor: HostTensor, input name: String) -> [Diagnostic] {
        guard tensor.dtype == declared.dtype else {
            return [Diagnostic("input '\(name)' must be \(declared), got \(tensor.typeDescription)")]
        }
        guard tensor.shape.count == declared.rank else {
            return [Diagnostic("input '\(name)' must have \(declared.rank) axes (\(declared)), got \(tensor.typeDescription)")]
        }
        var problems = [Diagnostic]()
        for (axis, dim) in declared.shape.enumerated() {
            let size = tensor.shape[axis]
            let place = "input '\(name)' axis \(axis)"
            if let constant = dim.constantValue {
                if constant != size { problems.append(Diagnostic("\(place) must be \(constant), got \(size) (\(tensor.typeDescription))")) }
            } else if dim.symbols.count == 1, let symbol = dim.symbols.first, dim == .symbol(symbol) {
                if let bound = symbols[symbol], bound != size {
                    problems.append(Diagnostic("\(place) is \(symbol) = \(size), but \(origins[symbol] ?? "another input") made \(symbol) = \(bound)"))
                } else {
                    symbols[symbol] = size
                    origins[symbol] = place
                }
            }
        }
        return problems
    }

    /// Checks input dims that are expressions (not single symbols) once every symbol is bound.
    func check(_ declared: TensorType, against tensor: HostTensor, input name: String) -> [Diagnostic] {
        var problems = [Diagnostic]()
        for (axis, dim) in declared.shape.enumerated() where dim.constantValue == nil && dim.symbols.map(Dim.symbol) != [dim] {
            if let value = dim.evaluate(symbols), value != tensor.shape[axis] {
                problems.append(Diagnostic("input '\(name)' axis \(axis) must be \(dim) = \(value), got \(tensor.shape[axis])"))
            }
        }
        return problems
    }

    /// The concrete shape of a type; nil when a symbol is unbound or a size is negative.
    func shape(of type: TensorType) -> [Int]? {
        var shape = [Int]()
        for dim in type.shape {
            guard let value = dim.evaluate(symbols), value >= 0 else { return nil }
            shape.append(value)
        }
        return shape
    }
}
