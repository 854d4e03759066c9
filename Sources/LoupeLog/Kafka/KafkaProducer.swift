import CRdKafka
import Foundation

/// A librdkafka producer: idempotent, `acks=all`, Java-compatible murmur2 partitioning.
///
/// Records are copied into librdkafka's queue by `send` and delivered in the background;
/// delivery reports are served on this producer's calling thread (in `send` and `flush`), and
/// the first failure is thrown by the next `flush`.
final class KafkaProducer: LogProducer {
    private var client: KafkaClient?
    private let deliveries = DeliveryReports()
    private let description: String

    init(configuration: KafkaConfiguration) throws {
        description = configuration.description
        let conf = try configuration.makeConf(role: KafkaConfiguration.producer)
        deliveries.receiveReports(of: conf)
        client = try KafkaClient(RD_KAFKA_PRODUCER, conf: conf, configuration: configuration)
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
        guard let rk = client?.pointer else {
            throw LogError("send to \(topic): the producer is closed (\(description))")
        }
        while true {
            guard let error = produce(rk, topic: topic, key: key, value: value, timestamp: timestamp) else {
                // Serves delivery reports as they arrive, so they do not pile up until flush.
                rd_kafka_poll(rk, 0)
                return
            }
            let (code, text) = KafkaErrorText.consume(error)
            guard code == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                throw LogError.kafka("send to topic \(topic)", code, detail: text, at: description)
            }
            // Backpressure: the local queue is full, so wait for deliveries to make room.
            rd_kafka_poll(rk, 10)
        }
    }

    func flush() throws {
        guard let rk = client?.pointer else { throw LogError("flush: the producer is closed (\(description))") }
        // rd_kafka_flush serves delivery reports while it waits; it gives up after its timeout
        // with records still queued, so wait in rounds until none are left.
        while rd_kafka_outq_len(rk) > 0 {
            _ = rd_kafka_flush(rk, 1_000)
        }
        if let failure = deliveries.takeFailure() {
            throw LogError("delivery failed (\(description)): \(failure)")
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

    /// Makes this the target of the delivery reports of the client made from `conf`. Passed
    /// unretained: it must outlive that client (the producer destroys the client first).
    func receiveReports(of conf: OpaquePointer) {
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryReportCallback)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
    }

    func recordFailure(_ failure: () -> String) {
        lock.lock()
        defer { lock.unlock() }
        if firstFailure == nil { firstFailure = failure() }
        failures += 1
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
    reports.recordFailure {
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        let partition = message.pointee.partition
        let place = partition >= 0 ? "\(topic)/\(partition)" : "\(topic) (no partition)"
        // Not rd_kafka_message_errstr: in a delivery report the payload is the record's value.
        let code = message.pointee.err
        return "record for \(place): \(KafkaErrorText.describe(code)) [\(KafkaErrorText.name(code))]"
    }
}
