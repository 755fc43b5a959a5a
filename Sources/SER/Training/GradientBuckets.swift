import Collectives
import Runtime

/// A data-parallel step's gradients summed over the processes while the backward pass goes on: the trained
/// parameters in buckets, from the last in graph order (their gradients come first
/// in the backward pass); a bucket's sum starts (MPI_Iallreduce) as soon as all of its gradients are made and the
/// buckets before it have started (every process starts them in the same order, as MPI requires), and every gradient
/// made drives MPI's progress on the buckets started. The buffers are kept from step to step.
final class GradientBuckets {
    private struct Bucket {
        var parameters: [String]
        var buffer: UnsafeMutableBufferPointer<Float>
        var waiting: Int
        var pending: PendingSum?
    }

    private let communicator: Communicator
    private var buckets: [Bucket] = []
    /// For each parameter: its bucket, its offset there and its size.
    private var places: [String: (bucket: Int, offset: Int, count: Int)] = [:]
    private var deposited = Set<String>()
    /// Buckets start in index order on every process (collective calls must be made in the same order everywhere):
    /// the next one to start.
    private var nextToStart = 0

    /// Buckets of `bucketValues` values, by default an eighth of all gradients (at least 1,024 values) up to 4 Mi
    /// values (16 MiB): several buckets even for a small model, so that the first start early.
    init(parameters: [String], sizes: [String: Int], communicator: Communicator, bucketValues: Int? = nil) {
        self.communicator = communicator
        let total = parameters.reduce(0) { $0 + (sizes[$1] ?? 0) }
        let bucketValues = bucketValues ?? max(1_024, min(4 << 20, total / 8))
        var current = [String](), filled = 0
        func close() {
            guard !current.isEmpty else { return }
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, filled))
            buffer.initialize(repeating: 0)
            buckets.append(Bucket(parameters: current, buffer: buffer, waiting: current.count))
            current = []
            filled = 0
        }
        for name in parameters.reversed() {
            let count = sizes[name] ?? 0
            places[name] = (buckets.count, filled, count)
            current.append(name)
            filled += count
            if filled >= bucketValues { close() }
        }
        close()
    }

    deinit { for bucket in buckets { bucket.buffer.deallocate() } }

    /// Starts a step: every bucket zeroed and waiting for all of its gradients.
    func begin() {
        deposited = []
        nextToStart = 0
        for index in buckets.indices {
            _ = buckets[index].buffer.update(repeating: 0)
            buckets[index].waiting = buckets[index].parameters.count
            buckets[index].pending = nil
        }
    }

    /// The gradient of `parameter` (as the step made it): copied into its bucket, whose sum starts when it is the
    /// last one the bucket waited for.
    func deposit(_ parameter: String, _ gradient: HostTensor) throws {
        guard let place = places[parameter], deposited.insert(parameter).inserted else { return }
        if gradient.count == place.count, let base = buckets[place.bucket].buffer.baseAddress {
            (base + place.offset).update(from: gradient.floats, count: place.count)
        }
        try arrived(in: place.bucket)
        // Progress on the sums already started.
        for bucket in buckets where bucket.pending != nil { _ = try bucket.pending?.isComplete() }
    }

    /// One gradient fewer for bucket `index`; then every complete bucket whose predecessors have all started starts.
    private func arrived(in index: Int) throws {
        buckets[index].waiting -= 1
        while nextToStart < buckets.count, buckets[nextToStart].waiting == 0 {
            buckets[nextToStart].pending = try communicator.startSum(buckets[nextToStart].buffer)
            nextToStart += 1
        }
    }

    /// Ends the step: buckets still waiting start with zeros for the gradients not made (a process without rows
    /// makes none), every sum completes, and the summed gradients come back as tensors.
    func finish(shapes: [String: [Int]]) throws -> [String: HostTensor] {
        for (index, bucket) in buckets.enumerated() {
            for parameter in bucket.parameters where !deposited.contains(parameter) {
                deposited.insert(parameter)
                try arrived(in: index)
            }
        }
        for bucket in buckets { try bucket.pending?.wait() }
        var gradients = [String: HostTensor]()
        for (parameter, place) in places {
            guard let shape = shapes[parameter], let base = buckets[place.bucket].buffer.baseAddress else { continue }
            let tensor = HostTensor(.f32, shape: shape)
            tensor.floats.update(from: base + place.offset, count: place.count)
            gradients[parameter] = tensor
        }
        return gradients
    }
}
