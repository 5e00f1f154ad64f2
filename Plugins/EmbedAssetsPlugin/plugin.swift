import Foundation
import PackagePlugin

/// Compiles the top-level `Resources/` folder into Swift source, so the `frontdesk` binary
/// carries its widget, console, OpenAPI document and templates and runs from any directory.
///
/// SwiftPM's own `resources:` would put a bundle directory beside the binary instead, which
/// breaks "copy the binary and run it".
@main
struct EmbedAssetsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        let resources = context.package.directoryURL.appending(path: "Resources")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedAssetsData.swift")
        var inputs: [URL] = []
        if let walker = FileManager.default.enumerator(at: resources, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker {
                let isFile = (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) ?? false
                if isFile { inputs.append(url) }
            }
        }
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) files from Resources/",
                executable: try context.tool(named: "EmbedAssets").url,
                arguments: [resources.path, output.path],
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
