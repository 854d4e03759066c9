import LoupeML
import LoupeEvents
import LoupeStore

extension LearnerState {
    /// Folds one valid event into the state (docs/learning.md says what each type does).
    mutating func apply(_ event: Event) {
        switch event {
        case .catalog(let change):
            let index = item(change.itemId, style: change.item?.style.index, time: change.timestamp)
            touchItem(index, time: change.timestamp)
            if let attributes = change.item {
                setStyle(index, attributes.style.index)
                items[index].frameWidthMM = Float(attributes.frameWidthMM)
                items[index].lensHeightMM = Float(attributes.lensHeightMM)
                items[index].bridgeMM = Float(attributes.bridgeMM)
                items[index].templeLengthMM = Float(attributes.templeLengthMM)
                items[index].price = attributes.price
                items[index].currency = attributes.currency
                items[index].material = attributes.material
                items[index].color = attributes.color
                setDeleted(index, false)
            } else {
                setDeleted(index, true)
            }
        case .faceAnalysis(let analysis):
            let index = user(analysis.userId, faceShape: analysis.faceShape?.index, time: analysis.timestamp)
            touchUser(index, time: analysis.timestamp)
            setFaceShape(index, analysis.faceShape?.index)
            let measured = analysis.measurements
            users[index].faceLengthMM = Float(measured.faceLengthMM)
            users[index].foreheadWidthMM = Float(measured.foreheadWidthMM)
            users[index].cheekboneWidthMM = Float(measured.cheekboneWidthMM)
            users[index].jawWidthMM = Float(measured.jawWidthMM)
            users[index].pupillaryDistanceMM = Float(measured.pupillaryDistanceMM)
            users[index].confidence = Float(analysis.confidence)
        case .session(let session):
            touchUser(user(session.userId, time: session.timestamp), time: session.timestamp)
        case .interaction(let interaction):
            let (weight, kind): (Float, HistoryKind)
            switch interaction.kind {
            case .view: (weight, kind) = (weights.view, .view)
            case .click: (weight, kind) = (weights.click, .click)
            case .tryOn: (weight, kind) = (weights.tryOn, .tryOn)
            case .addToCart: (weight, kind) = (weights.addToCart, .addToCart)
            case .purchase: (weight, kind) = (weights.purchase, .purchase)
            }
            observe(user: interaction.userId, item: interaction.itemId, weight: weight, kind: kind, event: event)
        case .feedback(let feedback):
            let (weight, kind): (Float, HistoryKind)
            switch feedback.kind {
            case .like: (weight, kind) = (weights.like, .like)
            case .dislike: (weight, kind) = (weights.dislike, .dislike)
            case .return: (weight, kind) = (weights.return, .return)
            case .rating: (weight, kind) = (weights.rating(feedback.rating ?? 3), .rating)
            }
            observe(user: feedback.userId, item: feedback.itemId, weight: weight, kind: kind, event: event)
        case .impression, .modelEvent, .evalMetric, .driftAlert, .deadLetter, .learnerBatch:
            counters[.ignored] += 1
        }
    }

    private mutating func observe(
        user userId: String, item itemId: String, weight: Float, kind: HistoryKind, event: Event
    ) {
        let userIndex = user(userId, time: event.timestamp)
        let knownItems = itemIds.count
        let itemIndex = item(itemId, time: event.timestamp)
        // Items are numbered in order of creation: an index past the known ones is new.
        if itemIndex >= knownItems { counters[.unknownItems] += 1 }
        touchUser(userIndex, time: event.timestamp)
        touchItem(itemIndex, time: event.timestamp)
        learn(user: userIndex, item: itemIndex, weight: weight, time: event.timestamp, eventId: event.eventId)
        items[itemIndex].interactionCount += 1
        pendingHistory.append((userIndex, HistoryEntry(itemId: itemId, kind: kind, weight: weight, time: event.timestamp)))
        if kind == .purchase || kind == .return {
            pendingPurchases.append((userIndex, itemIndex, event.timestamp, kind == .purchase))
        }
    }

    /// A new version of the entity: updates count as the version, and the latest event time.
    private mutating func touchUser(_ index: Int, time: Int64) {
        users[index].version += 1
        users[index].lastEventTime = max(users[index].lastEventTime, time)
        dirtyUsers.insert(index)
    }

    private mutating func touchItem(_ index: Int, time: Int64) {
        items[index].version += 1
        items[index].lastEventTime = max(items[index].lastEventTime, time)
        dirtyItems.insert(index)
    }
}
