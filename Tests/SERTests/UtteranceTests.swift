import SER
import Testing

@Suite("Utterances")
struct UtteranceTests {
    @Test("data errors name the file and the line")
    func dataError() {
        #expect(DataError("unknown label 'xyz'", file: "m.csv", line: 3).description == "m.csv:3:1: error: unknown label 'xyz'")
        #expect(DataError("no such folder", file: "/data/iemocap").description == "error: /data/iemocap: no such folder")
    }
}
