import LoupeLog
import CRdKafka
import Foundation

/// A librdkafka producer: idempotent, `acks=all`, Java-compatible murmur2 partitioning.
///
/// Records are copied into librdkafka's queue by `send` and delivered in the background;
/// delivery reports are served on this producer's calling thread (in `send` and `flush`), and
/// the first failure is thrown by the next `flush`.
///
/// An idempotent producer stops for good on a fatal error — a broker that lost its producer
/// state, say after a restart (`OUT_OF_ORDER_SEQUENCE_NUMBER`). Then this producer makes a new
/// librdkafka producer (a new producer id, whose sequence numbers the broker takes afresh) and
/// sends again, in their order, the records that were not delivered, up to `maximumRecoveries`
/// times per flush; it says so on standard error. Records the broker never acknowledged may
/// have been written after all: their event ids make the repeat harmless to every reader.
final class KafkaProducer: LogProducer {
    private var client: KafkaClient?
    private let deliveries = DeliveryReports()
    private let description: String
    private let configuration: KafkaConfiguration
    static let maximumRecoveries = 5

    init(configuration: KafkaConfiguration) throws {
        description = configuration.description
        self.configuration = configuration
        client = try Self.makeClient(configuration, deliveries)
    }

    private static func makeClient(_ configuration: KafkaConfiguration, _ deliveries: DeliveryReports) throws -> KafkaClient {
        let conf = try configuration.makeConf(role: KafkaConfiguration.producer)
        deliveries.receiveReports(of: conf)
        return try KafkaClient(RD_KAFKA_PRODUCER, conf: conf, configuration: configuration)
    }

    /// The producer's fatal error, if it has one.
    private static func fatalError(_ rk: OpaquePointer) -> String? {
        var text = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(rk, &text, text.count)
        return code == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : "\(cText(text)) [\(KafkaErrorText.name(code))]"
    }

    /// Replaces a producer in a fatal state by a new one and sends again every record that was
    /// not delivered (those still queued are purged first, so they are among them).
    private func recover(from fatal: String, attempt: Int) throws {
        guard let rk = client?.pointer else { return }
        guard attempt <= Self.maximumRecoveries else {
            throw LogError("the producer failed fatally \(attempt) times in a row (\(description)): \(fatal)")
        }
        rd_kafka_purge(rk, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        while rd_kafka_outq_len(rk) > 0 { _ = rd_kafka_flush(rk, 100) }
        _ = deliveries.takeFailure()
        let undelivered = deliveries.takeFailedRecords()
        client = nil
        if attempt > 1 { Thread.sleep(forTimeInterval: 0.2 * Double(attempt)) }
        client = try Self.makeClient(configuration, deliveries)
        FileHandle.standardError.write(
            Data("warning: the Kafka producer failed fatally (\(fatal)); a new producer sends the \(undelivered.count) undelivered record(s) again (\(description))\n".utf8))
        for record in undelivered {
            try send(topic: record.topic, key: record.key, value: record.value, timestamp: record.timestamp, attempt: attempt)
        }
    }

    deinit {
        // Best effort for a producer that was never closed: give queued records a bounded
        // chance to go out. `close()` is how to know they did.
        if let client {
            _ = rd_kafka_flush(client.pointer, 10_000)
        }
        // Destroyed here, while `deliveries` (the callbacks' opaque) is certainly alive.
        client = nil
    }

    func send(topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64) throws {
        try send(topic: topic, key: key, value: value, timestamp: timestamp, attempt: 0)
    }

    private func send(topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64, attempt: Int) throws {
        while true {
            guard let rk = client?.pointer else {
                throw LogError("send to \(topic): the producer is closed (\(description))")
            }
            guard let error = produce(rk, topic: topic, key: key, value: value, timestamp: timestamp) else {
                // Serves delivery reports as they arrive, so they do not pile up until flush.
                rd_kafka_poll(rk, 0)
                return
            }
            let (code, text) = KafkaErrorText.consume(error)
            if code == RD_KAFKA_RESP_ERR__FATAL, let fatal = Self.fatalError(rk) {
                try recover(from: fatal, attempt: attempt + 1)
                continue
            }
            guard code == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                throw LogError.kafka("send to topic \(topic)", code, detail: text, at: description)
            }
            // Backpressure: the local queue is full, so wait for deliveries to make room.
            rd_kafka_poll(rk, 10)
        }
    }

    func flush() throws {
        var attempt = 0
        while true {
            guard let rk = client?.pointer else { throw LogError("flush: the producer is closed (\(description))") }
            // rd_kafka_flush serves delivery reports while it waits; it gives up after its timeout
            // with records still queued, so wait in rounds until none are left.
            while rd_kafka_outq_len(rk) > 0 {
                _ = rd_kafka_flush(rk, 1_000)
            }
            if let fatal = Self.fatalError(rk) {
                attempt += 1
                try recover(from: fatal, attempt: attempt)
                continue
            }
            _ = deliveries.takeFailedRecords()
            if let failure = deliveries.takeFailure() {
                throw LogError("delivery failed (\(description)): \(failure)")
            }
            return
        }
    }

    func close() throws {
        guard client != nil else { return }
        defer { client = nil }
        try flush()
    }

    /// Queues one record (librdkafka copies key and value); nil on success, else the error,
    /// which the caller frees.
    private func produce(_ rk: OpaquePointer, topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64)
        -> OpaquePointer?
    {
        topic.withCString { topicName in
            value.withUnsafeBytes { valueBytes in
                withOptionalBytes(key) { keyBytes in
                    var fields = (rd_kafka_vu_t(), rd_kafka_vu_t(), rd_kafka_vu_t(), rd_kafka_vu_t(), rd_kafka_vu_t())
                    fields.0.vtype = RD_KAFKA_VTYPE_TOPIC
                    fields.0.u.cstr = topicName
                    fields.1.vtype = RD_KAFKA_VTYPE_VALUE
                    fields.1.u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBytes.baseAddress)
                    fields.1.u.mem.size = valueBytes.count
                    fields.2.vtype = RD_KAFKA_VTYPE_TIMESTAMP
                    fields.2.u.i64 = timestamp
                    fields.3.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    fields.3.u.i = RD_KAFKA_MSG_F_COPY
                    fields.4.vtype = RD_KAFKA_VTYPE_KEY
                    fields.4.u.mem.ptr = keyBytes.flatMap { UnsafeMutableRawPointer(mutating: $0.baseAddress) }
                    fields.4.u.mem.size = keyBytes?.count ?? 0
                    let count = keyBytes == nil ? 4 : 5
                    return withUnsafeBytes(of: &fields) { raw in
                        rd_kafka_produceva(rk, raw.baseAddress!.assumingMemoryBound(to: rd_kafka_vu_t.self), count)
                    }
                }
            }
        }
    }
}

private func withOptionalBytes<Result>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> Result) -> Result {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

/// Failed deliveries that librdkafka reported, kept until `flush` throws the first.
final class DeliveryReports: @unchecked Sendable {
    // Reports arrive on the thread that polls the producer; the lock keeps this correct even
    // if a caller flushes from another thread than the one sending.
    private let lock = NSLock()
    private var firstFailure: String?
    private var failures = 0
    /// The records that failed, in the order their reports came (per partition, send order).
    private var failedRecords: [(topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64)] = []

    /// Makes this the target of the delivery reports of the client made from `conf`. Passed
    /// unretained: it must outlive that client (the producer destroys the client first).
    func receiveReports(of conf: OpaquePointer) {
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryReportCallback)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
    }

    func recordFailure(_ failure: () -> String, record: (topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64)) {
        lock.lock()
        defer { lock.unlock() }
        if firstFailure == nil { firstFailure = failure() }
        failures += 1
        failedRecords.append(record)
    }

    /// The records that failed since the last call.
    func takeFailedRecords() -> [(topic: String, key: [UInt8]?, value: [UInt8], timestamp: Int64)] {
        lock.lock()
        defer {
            failedRecords = []
            lock.unlock()
        }
        return failedRecords
    }

    /// The first failure since the last call, with how many others followed it.
    func takeFailure() -> String? {
        lock.lock()
        defer {
            firstFailure = nil
            failures = 0
            lock.unlock()
        }
        guard let firstFailure else { return nil }
        return failures > 1 ? "\(firstFailure) (and \(failures - 1) more records failed)" : firstFailure
    }
}

private func deliveryReportCallback(
    _ rk: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let message, let opaque, message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
    let reports = Unmanaged<DeliveryReports>.fromOpaque(opaque).takeUnretainedValue()
    let record = message.pointee
    let topicName = record.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
    let value = record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len)) } ?? []
    let key = record.key.map { Array(UnsafeRawBufferPointer(start: $0, count: record.key_len)) }
    let timestamp = rd_kafka_message_timestamp(message, nil)
    reports.recordFailure(
        {
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        let partition = message.pointee.partition
        let place = partition >= 0 ? "\(topic)/\(partition)" : "\(topic) (no partition)"
        // Not rd_kafka_message_errstr: in a delivery report the payload is the record's value.
        let code = message.pointee.err
        return "record for \(place): \(KafkaErrorText.describe(code)) [\(KafkaErrorText.name(code))]"
        }, record: (topicName, key, value, timestamp))
}
