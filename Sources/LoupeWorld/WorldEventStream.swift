import LoupeRandomness
import LoupeEvents

/// Plays a `SyntheticWorld` out as events: the catalog, then sessions of shoppers in timestamp
/// order, exactly `configuration.events` in all.
///
/// Memory holds only what is open: sessions in progress and ratings or returns still to come,
/// so it does not grow with the number of events.
public struct WorldEventStream: Sequence, IteratorProtocol {
    private let world: SyntheticWorld
    private let seedText: String
    private let total: Int
    private let driftAt: Int
    private let affinityBefore: [Double]
    private let affinityAfter: [Double]
    private var random: SeededRandom
    private var queue = EventQueue()
    private var sessions: [OpenSession?] = []
    private var freeSlots: [Int] = []
    private let visitors: AliasTable
    private var hasAppeared: [Bool]
    /// Scratch space for the candidates of a view and their softmax weights.
    private var candidateItems = Array(repeating: 0, count: ShoppingBehaviour.candidateCount)
    private var candidateWeights = Array(repeating: 0.0, count: ShoppingBehaviour.candidateCount)
    private var nextArrival: Int64
    private let meanArrivalGapSeconds: Double
    private var sessionCount = 0
    private var requestCount = 0
    /// Events open sessions are bound to emit: their session_start until it is out, and their
    /// session_end. Optional events only go out while the remaining budget covers these.
    private var reserved = 0

    /// How many events have been returned so far.
    public private(set) var emitted = 0

    /// What the stream holds in memory: scheduled work and session slots (for tests).
    var heldCount: Int { queue.count + sessions.count }

    init(_ world: SyntheticWorld) {
        self.world = world
        let configuration = world.configuration
        seedText = String(configuration.seed)
        total = configuration.events
        driftAt = configuration.driftAt ?? Int.max
        affinityBefore = world.affinity.values
        affinityAfter = (world.driftedAffinity ?? world.affinity).values
        random = SeededRandom(seed: configuration.seed, stream: SyntheticWorld.Stream.activity.rawValue)
        visitors = AliasTable(weights: world.users.map(\.activity))
        hasAppeared = Array(repeating: false, count: world.users.count)
        meanArrivalGapSeconds = 86_400 / (Double(world.users.count) * ShoppingBehaviour.visitsPerUserPerDay)
        nextArrival = SyntheticWorld.epochMilliseconds
        nextArrival += milliseconds(random.exponential(mean: meanArrivalGapSeconds))
    }

    public mutating func next() -> Event? {
        guard emitted < total else { return nil }
        if emitted < world.items.count { return catalogEvent(emitted) }
        while true {
            if let first = queue.first, first.time <= nextArrival {
                let entry = queue.removeFirst()
                switch entry.work {
                case .session(let slot):
                    return sessionEvent(slot: slot, at: entry.time)
                case .afterPurchase(let user, let item, let stars):
                    // Ratings and returns due after the budget is spent are dropped.
                    guard total - emitted - 1 >= reserved else { continue }
                    return afterPurchaseEvent(user: Int(user), item: Int(item), stars: stars.map(Int.init), at: entry.time)
                }
            }
            let time = nextArrival
            nextArrival += Swift.max(1, milliseconds(random.exponential(mean: meanArrivalGapSeconds)))
            if let event = arrival(at: time) { return event }
        }
    }

    // MARK: - Catalog

    private mutating func catalogEvent(_ index: Int) -> Event {
        let item = world.items[index]
        return emit(.catalog(CatalogEvent(
            eventId: nextEventId(), timestamp: SyntheticWorld.epochMilliseconds, itemId: item.id, item: item.attributes)))
    }

    // MARK: - Sessions

    private struct OpenSession {
        var user: Int
        var id: String
        var context: Context
        /// The request id of the recommendation slate this session started from, if any.
        var slate: String?
        var step: Step
        /// The item of the current funnel and the request id its view came from.
        var item = 0
        var requestId: String?
    }

    private enum Step {
        case start, view, click, like, dislike, tryOn, addToCart, purchase, end
    }

    /// A shopper arrives: one chosen by activity, kept with the probability their habits give
    /// the local hour. Returns nil when the remaining budget cannot hold another session.
    private mutating func arrival(at time: Int64) -> Event? {
        var user: Int
        var localHour: Int
        repeat {
            user = visitors.draw(&random)
            localHour = Self.localHour(time, offset: world.users[user].habits.utcOffsetHours)
        } while !random.bernoulli(ShoppingHabits.hourWeight(world.users[user].habits, localHour: localHour))

        let firstVisit = !hasAppeared[user]
        // Face analysis (first visit), session_start, a view and session_end.
        let needed = (firstVisit ? 1 : 0) + 3
        guard total - emitted >= reserved + needed || (queue.isEmpty && reserved == 0) else { return nil }

        let habits = world.users[user].habits
        let device = random.bernoulli(ShoppingHabits.usualDeviceProbability)
            ? habits.device : ShoppingHabits.devices[random.weightedIndex(ShoppingHabits.deviceWeights)]
        let channel = random.bernoulli(ShoppingHabits.usualChannelProbability)
            ? habits.channel : ShoppingHabits.channels[random.weightedIndex(ShoppingHabits.channelWeights)]
        sessionCount += 1
        var slate: String?
        if random.bernoulli(ShoppingBehaviour.recommendedSessionProbability) {
            requestCount += 1
            slate = "req-\(seedText)-\(requestCount)"
        }
        let session = OpenSession(
            user: user, id: "sess-\(seedText)-\(sessionCount)",
            context: Context(device: device, channel: channel, locale: habits.locale, hour: localHour),
            slate: slate, step: .start)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            sessions[slot] = session
        } else {
            slot = sessions.count
            sessions.append(session)
        }
        reserved += 2

        guard firstVisit else { return sessionEvent(slot: slot, at: time) }
        hasAppeared[user] = true
        queue.schedule(.session(slot), at: time)
        let shopper = world.users[user]
        return emit(.faceAnalysis(FaceAnalysis(
            eventId: nextEventId(), timestamp: time, userId: shopper.id, faceShape: shopper.reportedFaceShape,
            measurements: shopper.measurements, confidence: shopper.confidence)))
    }

    /// Emits the session's pending step, then decides and schedules the one after it.
    private mutating func sessionEvent(slot: Int, at time: Int64) -> Event {
        var session = sessions[slot]!
        if session.step != .start, session.step != .end, total - emitted - 1 < reserved {
            session.step = .end
        }
        let event = sessionEventBody(session, at: time)
        let result = emit(event)
        switch session.step {
        case .start:
            reserved -= 1
        case .purchase:
            schedulePurchaseOutcome(user: session.user, item: session.item, utility: currentUtility(session), at: time)
        case .end:
            reserved -= 1
            sessions[slot] = nil
            freeSlots.append(slot)
            return result
        default:
            break
        }
        let delay = decideNextStep(&session)
        sessions[slot] = session
        queue.schedule(.session(slot), at: time + delay)
        return result
    }

    private func sessionEventBody(_ session: OpenSession, at time: Int64) -> Event {
        let userId = world.users[session.user].id
        let kind: InteractionKind
        switch session.step {
        case .start, .end:
            return .session(Session(
                eventId: nextEventId(), timestamp: time, kind: session.step == .start ? .sessionStart : .sessionEnd,
                userId: userId, sessionId: session.id, context: session.context))
        case .like, .dislike:
            return .feedback(Feedback(
                eventId: nextEventId(), timestamp: time, kind: session.step == .like ? .like : .dislike,
                userId: userId, itemId: world.items[session.item].id))
        case .view: kind = .view
        case .click: kind = .click
        case .tryOn: kind = .tryOn
        case .addToCart: kind = .addToCart
        case .purchase: kind = .purchase
        }
        return .interaction(Interaction(
            eventId: nextEventId(), timestamp: time, kind: kind, userId: userId, itemId: world.items[session.item].id,
            sessionId: session.id, requestId: session.requestId, context: session.context))
    }

    /// Draws what the shopper does after the step just emitted; returns the delay in milliseconds.
    private mutating func decideNextStep(_ session: inout OpenSession) -> Int64 {
        typealias B = ShoppingBehaviour
        let utility = session.step == .start ? 0 : currentUtility(session)
        switch session.step {
        case .start:
            return chooseView(&session, medianSeconds: B.secondsToFirstView)
        case .view:
            if random.bernoulli(B.click.probability(utility)) {
                return advance(&session, to: .click, medianSeconds: B.secondsToClick)
            }
            if random.bernoulli(B.dislike.probability(utility)) {
                return advance(&session, to: .dislike, medianSeconds: B.secondsToOpinion)
            }
            return continueOrEnd(&session, probability: B.continueProbability)
        case .click:
            if random.bernoulli(B.like.probability(utility)) {
                return advance(&session, to: .like, medianSeconds: B.secondsToOpinion)
            }
            return decideTryOn(&session, utility: utility)
        case .like:
            return decideTryOn(&session, utility: utility)
        case .dislike:
            return continueOrEnd(&session, probability: B.continueProbability)
        case .tryOn:
            if random.bernoulli(B.addToCart.probability(utility)) {
                return advance(&session, to: .addToCart, medianSeconds: B.secondsToAddToCart)
            }
            return continueOrEnd(&session, probability: B.continueProbability)
        case .addToCart:
            if random.bernoulli(B.purchase.probability(utility)) {
                return advance(&session, to: .purchase, medianSeconds: B.secondsToPurchase)
            }
            return continueOrEnd(&session, probability: B.continueProbability)
        case .purchase:
            return continueOrEnd(&session, probability: B.continueAfterPurchaseProbability)
        case .end:
            preconditionFailure("an ended session has no next step")
        }
    }

    private mutating func decideTryOn(_ session: inout OpenSession, utility: Double) -> Int64 {
        if random.bernoulli(ShoppingBehaviour.tryOn.probability(utility)) {
            return advance(&session, to: .tryOn, medianSeconds: ShoppingBehaviour.secondsToTryOn)
        }
        return continueOrEnd(&session, probability: ShoppingBehaviour.continueProbability)
    }

    private mutating func continueOrEnd(_ session: inout OpenSession, probability: Double) -> Int64 {
        if random.bernoulli(probability) {
            return chooseView(&session, medianSeconds: ShoppingBehaviour.secondsBetweenViews)
        }
        return advance(&session, to: .end, medianSeconds: ShoppingBehaviour.secondsToEnd)
    }

    private mutating func advance(_ session: inout OpenSession, to step: Step, medianSeconds: Double) -> Int64 {
        session.step = step
        return gap(medianSeconds)
    }

    /// The next item viewed: a softmax over utility / noise among `candidateCount` uniformly drawn items.
    private mutating func chooseView(_ session: inout OpenSession, medianSeconds: Double) -> Int64 {
        for position in candidateItems.indices {
            candidateItems[position] = random.index(world.items.count)
        }
        world.utilities(user: session.user, items: candidateItems, affinity: currentAffinity, into: &candidateWeights)
        let highest = candidateWeights.max()!
        let temperature = world.configuration.noise
        var sum = 0.0
        for position in candidateWeights.indices {
            candidateWeights[position] = StableMath.exp((candidateWeights[position] - highest) / temperature)
            sum += candidateWeights[position]
        }
        var target = random.uniform() * sum
        var chosen = candidateItems[candidateItems.count - 1]
        for position in candidateWeights.indices {
            target -= candidateWeights[position]
            if target < 0 {
                chosen = candidateItems[position]
                break
            }
        }
        session.item = chosen
        let fromSlate = session.slate != nil && random.bernoulli(ShoppingBehaviour.recommendedViewProbability)
        session.requestId = fromSlate ? session.slate : nil
        return advance(&session, to: .view, medianSeconds: medianSeconds)
    }

    // MARK: - After a purchase

    /// Called when a purchase goes out: schedules its return or its rating, if any.
    private mutating func schedulePurchaseOutcome(user: Int, item: Int, utility: Double, at time: Int64) {
        let width = world.items[item].attributes.frameWidthMM
        let cheekbone = world.users[user].measurements.cheekboneWidthMM
        let day = 86_400.0
        if random.bernoulli(ShoppingBehaviour.returnProbability(frameWidthMM: width, cheekboneWidthMM: cheekbone)) {
            let delay = milliseconds(random.uniform(3 * day, 14 * day))
            queue.schedule(.afterPurchase(user: Int32(user), item: Int32(item), stars: nil), at: time + delay)
        } else if random.bernoulli(ShoppingBehaviour.ratingProbability) {
            let stars = ShoppingBehaviour.stars(utility: utility, &random)
            let delay = milliseconds(random.uniform(1 * day, 10 * day))
            queue.schedule(.afterPurchase(user: Int32(user), item: Int32(item), stars: Int8(stars)), at: time + delay)
        }
    }

    private mutating func afterPurchaseEvent(user: Int, item: Int, stars: Int?, at time: Int64) -> Event {
        emit(.feedback(Feedback(
            eventId: nextEventId(), timestamp: time, kind: stars == nil ? .return : .rating,
            userId: world.users[user].id, itemId: world.items[item].id, rating: stars)))
    }

    // MARK: - Helpers

    /// The affinity every choice made now uses: the drifted one once `driftAt` events are out.
    private var currentAffinity: [Double] {
        emitted >= driftAt ? affinityAfter : affinityBefore
    }

    private func currentUtility(_ session: OpenSession) -> Double {
        world.utility(user: session.user, item: session.item, affinity: currentAffinity)
    }

    private func nextEventId() -> String {
        "gen-\(seedText)-\(emitted + 1)"
    }

    private mutating func emit(_ event: Event) -> Event {
        emitted += 1
        return event
    }

    private mutating func gap(_ medianSeconds: Double) -> Int64 {
        Swift.max(1, milliseconds(random.logNormal(median: medianSeconds, deviation: ShoppingBehaviour.gapDeviation)))
    }

    private func milliseconds(_ seconds: Double) -> Int64 {
        Int64((seconds * 1000).rounded())
    }

    private static func localHour(_ time: Int64, offset: Int) -> Int {
        let utcHour = Int((time / 3_600_000) % 24)
        return (utcHour + offset + 24) % 24
    }
}
