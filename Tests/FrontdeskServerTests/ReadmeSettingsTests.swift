import Foundation
import FrontdeskCore
import Testing
@testable import FrontdeskServer

@Suite("README settings table")
struct ReadmeSettingsTests {
    @Test("README.md's configuration table is the one the catalogue generates (run scripts/readme-settings)")
    func readmeTable() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized
        let text = try String(contentsOf: readme, encoding: .utf8)
        let marker = try #require(text.range(of: "<!-- settings:begin"))
        let begin = try #require(text.range(of: "-->\n", range: marker.upperBound..<text.endIndex))
        let end = try #require(text.range(of: "\n<!-- settings:end -->"))
        let table = String(text[begin.upperBound..<end.lowerBound])
        #expect(table == FrontdeskConfig.settingsTable(features: FeatureModules.settings).trimmingCharacters(in: .newlines), "README.md's settings table is stale: run scripts/readme-settings")
    }

}
