import GraphIR
import Runtime
import Testing

@Suite("Host tensors")
struct HostTensorTests {
    @Test("tensors hold their elements, aligned, with their type")
    func basics() {
        let tensor = HostTensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(tensor.count == 6)
        #expect(tensor.floatArray == [1, 2, 3, 4, 5, 6])
        #expect(Int(bitPattern: tensor.storage) % 64 == 0)
        #expect(tensor.typeDescription == "f32[2, 3]")
        let empty = HostTensor(.i32, shape: [0, 4])
        #expect(empty.count == 0)
        #expect(HostTensor(int32s: [7, -1], shape: [2]).int32Array == [7, -1])
    }
}
