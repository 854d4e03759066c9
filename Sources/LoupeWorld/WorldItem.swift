import LoupeEvents

/// A frame of the synthetic catalog: what `item_upsert` publishes and the latent values behind it.
public struct WorldItem: Sendable, Equatable {
    public var id: String
    /// The published attributes, features included.
    public var attributes: CatalogItem
    /// The latent taste vector (`SyntheticWorld.tasteDimensions` numbers).
    public var taste: [Double]
    /// The Zipf-like popularity term of the utility.
    public var popularity: Double

    public var style: FrameStyle { attributes.style }
    public var price: Double { attributes.price }
}
