/// Tensor names of HuggingFace HuBERT checkpoints, mapped onto the names of graphs/hubert_base.yaml's parameters
/// (which are `HubertModel`'s own).
extension HFCheckpoint {
    /// The top-level modules of `HubertModel`.
    static let backbonePrefixes = ["feature_extractor.", "feature_projection.", "encoder.", "masked_spec_embed"]

    /// The graph's name for a checkpoint tensor, or nil for a tensor outside the backbone.
    ///
    /// - `hubert.` (the backbone inside `HubertForSequenceClassification`, `HubertForCTC`) is stripped; without it,
    ///   a name must start with one of `HubertModel`'s modules, and others (`projector.weight`,
    ///   `classifier.bias`, `lm_head.weight`, `layer_weights`) are heads.
    /// - Weight norm saved by `torch.nn.utils.parametrizations.weight_norm`
    ///   (`encoder.pos_conv_embed.conv.parametrizations.weight.original0` / `original1`) becomes the older
    ///   `weight_g` / `weight_v`, which the graph uses.
    public static func backboneName(_ name: String) -> String? {
        var name = name
        if name.hasPrefix("hubert.") {
            name.removeFirst("hubert.".count)
        } else if !backbonePrefixes.contains(where: { name.hasPrefix($0) }) {
            return nil
        }
        let parametrizations = [
            (".parametrizations.weight.original0", ".weight_g"), (".parametrizations.weight.original1", ".weight_v"),
        ]
        for (parametrized, plain) in parametrizations where name.hasSuffix(parametrized) {
            name.removeLast(parametrized.count)
            name += plain
        }
        return name
    }
}
