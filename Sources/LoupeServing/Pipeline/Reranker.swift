import LoupeStore

/// What a reranker knows of the request besides the candidates.
public struct RerankContext: Sendable {
    public var request: RecommendationRequest
    /// The user's record in the snapshot; nil for a user the store does not know.
    public var user: UserRecord?
    /// The user had no embedding: the scores come from the face-shape group or popularity.
    public var coldStart: Bool

    public init(request: RecommendationRequest, user: UserRecord?, coldStart: Bool) {
        self.request = request
        self.user = user
        self.coldStart = coldStart
    }
}

/// The rerank stage: final relevance scores for the candidate pool. The hybrid network of a
/// later issue plugs in here.
public protocol Reranker: Sendable {
    /// On entry `scores[i]` is the retrieval score of catalog row `rows[i]` (⟨user, item⟩ of the
    /// online model; for cold starts ⟨face-shape group mean, item⟩ or popularity); on return it
    /// must hold the final relevance score (higher is better). Called outside any store lock.
    func rerank(
        rows: UnsafeBufferPointer<Int32>, scores: UnsafeMutableBufferPointer<Float>, catalog: ItemCatalog, context: RerankContext)
}

/// The online model's score as the final score: leaves the retrieval scores as they are.
public struct OnlineModelReranker: Reranker {
    public init() {}

    public func rerank(
        rows: UnsafeBufferPointer<Int32>, scores: UnsafeMutableBufferPointer<Float>, catalog: ItemCatalog, context: RerankContext
    ) {}
}
