import Testing
import GraphSpec
@Test func specErrorRenders() { #expect(SpecError("x").description == "error: x") }
