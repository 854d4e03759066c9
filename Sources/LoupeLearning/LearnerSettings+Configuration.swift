import LoupeML
import LoupeConfig

extension LearnerSettings {
    /// The settings of a configuration's `learner:` section.
    public init(_ configuration: LearnerConfiguration) {
        self.init()
        learnerId = configuration.id
        modelKey = configuration.model
        model.dimension = configuration.dimension
        model.learningRate = Float(configuration.learningRate)
        model.biasLearningRate = Float(configuration.biasLearningRate)
        model.l2 = Float(configuration.l2)
        model.negativeSamples = configuration.negativeSamples
        model.uniformNegativeShare = configuration.uniformNegativeShare
        model.historyLength = configuration.recentItems
        model.historyExponent = Float(configuration.recentExponent)
        model.initialScale = Float(configuration.initialScale)
        popularityHalfLifeMilliseconds = configuration.popularityHalfLifeMs > 0 ? Int64(configuration.popularityHalfLifeMs) : nil
        let configured = configuration.eventWeights
        weights.view = Float(configured.view)
        weights.click = Float(configured.click)
        weights.tryOn = Float(configured.tryOn)
        weights.addToCart = Float(configured.addToCart)
        weights.purchase = Float(configured.purchase)
        weights.like = Float(configured.like)
        weights.dislike = Float(configured.dislike)
        weights.return = Float(configured.return)
        weights.rating = Float(configured.rating)
        batchSize = configuration.batchSize
        maxDelayMilliseconds = configuration.maxDelayMs
        deduplicationWindowMilliseconds = Int64(configuration.deduplicationWindowMs)
        historyLength = configuration.historyLength
    }
}
