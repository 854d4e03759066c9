import LoupeLog
import LoupeServing
import Foundation
import Hummingbird
import LoupeEvents

extension HTTPServer {
    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("/healthz") { _, _ in try JSONResponse.make(HealthBody()) }
        router.get("/readyz") { request, context in try await readiness(request, context) }
        router.get("/metrics") { request, context in try await metricsExposition(request, context) }
        router.get("/v1/users/{id}/recommendations") { request, context in try await recommendations(request, context) }
        router.get("/v1/items/{id}/similar") { request, context in try similar(request, context) }
        router.post("/v1/events") { request, context in try await postEvents(request, context) }
    }

    func recommendations(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try access.authorize(request, for: .read)
        let query = try RecommendationQuery.recommendation(
            userId: context.parameters.get("id"), query: request.uri.query, settings: settings)
        let list = try await Self.serving { try await service.recommendations(for: query) }
        let variant = list.variant ?? service.variant(of: list.userId)
        // Encoded first: a list that cannot be served (say, a non-finite score) is no impression.
        let response = try JSONResponse.make(
            RecommendationsBody(
                requestId: context.requestId, userId: list.userId, variant: variant, modelId: list.model.id,
                modelVersion: list.model.version, snapshot: list.snapshot, positions: RecommendationsBody.positions(list.positions), userVersion: list.userVersion, coldStart: list.coldStart,
                cached: list.cached,
                items: RecommendationsBody.items(list.items)))
        impressions.submit(
            Impression(
                eventId: "imp-" + RandomIdentifier.uuid(), timestamp: Int64(Date().timeIntervalSince1970 * 1000),
                requestId: context.requestId, userId: list.userId,
                items: list.items.enumerated().map {
                    // The shortest decimal of the Float, so the impression shows the score the response did.
                    Impression.Item(itemId: $1.itemId, score: Double($1.score.description) ?? Double($1.score), position: $0)
                },
                modelId: list.model.id, modelVersion: list.model.version, variant: variant))
        return response
    }

    func similar(_ request: Request, _ context: APIRequestContext) throws -> Response {
        try access.authorize(request, for: .read)
        let (itemId, k) = try RecommendationQuery.similar(
            itemId: context.parameters.get("id"), query: request.uri.query, settings: settings)
        let similar = try Self.serving { try service.similar(to: itemId, k: k) }
        return try JSONResponse.make(
            SimilarBody(
                requestId: context.requestId, itemId: similar.itemId, modelId: similar.model.id,
                modelVersion: similar.model.version, snapshot: similar.snapshot,
                positions: RecommendationsBody.positions(similar.positions), items: RecommendationsBody.items(similar.items)))
    }

    func postEvents(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try access.authorize(request, for: .write)
        let format = try EventBatch.format(contentType: request.headers[.contentType])
        let body = try await EventBatch.collect(request, limit: settings.maxBodyBytes)
        let batch = try EventBatch(body, format: format, maxEvents: settings.maxEventsPerRequest)
        let outcome: EventSink.Outcome
        do {
            outcome = try await events.ingest(batch.entries.map { Array($0.bytes) }, origin: "http:\(context.requestId)")
        } catch {
            throw APIError(
                .serviceUnavailable, code: "log_unavailable",
                APIError.seeServerLog(
                    "writing to the log failed, and some events of this batch may already be written (their event ids make a retry safe)",
                    requestId: context.requestId),
                internalDetail: "writing \(batch.entries.count) events to the log (\(log.description)) failed: \(error)")
        }
        for (topic, count) in outcome.summary.accepted { metrics.recordAccepted(topic: topic.rawValue, count: count) }
        for (code, count) in outcome.summary.rejected { metrics.recordRejected(reason: code.rawValue, count: count) }

        var rejections: [EventsBody.Rejection] = []
        for (index, result) in outcome.results.enumerated() {
            if case .failure(let error) = result {
                rejections.append(
                    .init(
                        index: index, line: batch.entries[index].line, code: error.code.rawValue, field: error.field,
                        message: error.message))
            }
        }
        let accepted = outcome.summary.acceptedCount
        var response = EventsBody(
            requestId: context.requestId, accepted: accepted, rejected: rejections.count,
            acceptedByTopic: Dictionary(uniqueKeysWithValues: outcome.summary.accepted.map { ($0.key.rawValue, $0.value) }))
        guard !rejections.isEmpty else { return try JSONResponse.make(response, status: .accepted) }
        response.error = .init(
            code: "invalid_events",
            message:
                "\(rejections.count) of \(outcome.results.count) events were rejected and written to dead-letter with their reasons; "
                + "the other \(accepted) were accepted and written to their topics — resend only the rejected ones, corrected")
        response.rejections = rejections
        metrics.recordError(route: "/v1/events", code: "invalid_events")
        return try JSONResponse.make(response, status: .badRequest)
    }

    func readiness(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let status = service.status
        var checks = ["recommender": "ok", "log": "ok"]
        var reasons: [String] = []
        if !status.ready {
            let reason = status.reason ?? "the recommender is not ready"
            checks["recommender"] = reason
            reasons.append(reason)
        }
        if let problem = await probe.problem(requestId: context.requestId) {
            checks["log"] = problem.check
            reasons.append(problem.message)
        }
        let body = ReadinessBody(
            ready: reasons.isEmpty, checks: checks, reasons: reasons, models: status.models.map(ReadinessBody.Model.init))
        return try JSONResponse.make(body, status: reasons.isEmpty ? .ok : .serviceUnavailable)
    }

    func metricsExposition(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try access.authorize(request, for: .read)
        let status = service.status
        metrics.record(status)
        metrics.record(consumerLag: await probe.consumerLag(after: status.positions, requestId: context.requestId))
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }

    /// Runs a service call, turning `ServingError` into the API's errors.
    static func serving<T>(_ call: () throws -> T) throws -> T {
        do {
            return try call()
        } catch let error as ServingError {
            throw apiError(error)
        }
    }

    static func serving<T>(_ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch let error as ServingError {
            throw apiError(error)
        }
    }

    private static func apiError(_ error: ServingError) -> APIError {
        switch error {
        case .unknownItem(let id):
            APIError(.notFound, code: "unknown_item", "no item \"\(QueryParameters.quoted(id))\" in the served snapshot")
        case .notReady(let reason):
            APIError(.serviceUnavailable, code: "not_ready", "the recommender is not ready: \(reason)")
        case .invalidRequest(let reason):
            APIError.badRequest("invalid_request", reason)
        }
    }
}
