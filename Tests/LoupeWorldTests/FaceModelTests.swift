import LoupeRandomness
import LoupeEvents
import Testing
@testable import LoupeWorld

@Suite struct FaceModelTests {
    /// The measurements carry the shape: a simple rule-based reading recovers it for at least
    /// 90% of faces (the brief asks for 80%), and for at least 80% of each shape.
    @Test func measurementsRecoverTheShape() {
        var random = SeededRandom(seed: 21)
        var correct = Array(repeating: 0, count: FaceShape.allCases.count)
        let perShape = 2_000
        for shape in FaceShape.allCases {
            for _ in 0..<perShape where FaceModel.classify(FaceModel.drawMeasurements(for: shape, &random)) == shape {
                correct[shape.index] += 1
            }
        }
        for shape in FaceShape.allCases {
            #expect(Double(correct[shape.index]) / Double(perShape) >= 0.8, "\(shape): \(correct[shape.index]) of \(perShape)")
        }
        #expect(Double(correct.reduce(0, +)) / Double(perShape * FaceShape.allCases.count) >= 0.9)
    }

    /// The same on the face_analysis events of a generated stream, against the true shapes.
    @Test func faceAnalysisEventsMatchTheTrueShapes() {
        let run = Fixtures.small
        let users = run.userIndex
        var analyses = 0
        var recovered = 0
        for case .faceAnalysis(let analysis) in run.events {
            let user = run.world.users[users[analysis.userId]!]
            #expect(analysis.faceShape == user.reportedFaceShape)
            #expect(analysis.faceShape == nil || analysis.faceShape == user.faceShape)
            analyses += 1
            if FaceModel.classify(analysis.measurements) == user.faceShape { recovered += 1 }
        }
        #expect(Double(recovered) >= 0.85 * Double(analyses))
    }

    @Test func proportionsFollowTheShape() {
        var random = SeededRandom(seed: 4)
        func mean(_ shape: FaceShape, _ value: (FaceMeasurements) -> Double) -> Double {
            (0..<500).map { _ in value(FaceModel.drawMeasurements(for: shape, &random)) }.reduce(0, +) / 500
        }
        let lengthRatio = { (m: FaceMeasurements) in m.faceLengthMM / m.cheekboneWidthMM }
        #expect(abs(mean(.round, lengthRatio) - 1.15) < 0.05)
        #expect(abs(mean(.oval, lengthRatio) - 1.5) < 0.05)
        #expect(mean(.oblong, lengthRatio) > 1.65)
        #expect(mean(.heart) { $0.foreheadWidthMM - $0.jawWidthMM } > 25)
        #expect(mean(.square) { abs($0.foreheadWidthMM - $0.jawWidthMM) } < 4)
        #expect(mean(.diamond) { $0.cheekboneWidthMM - max($0.foreheadWidthMM, $0.jawWidthMM) } > 20)
        #expect(mean(.oval) { $0.foreheadWidthMM - $0.jawWidthMM } > 10)
    }

    @Test func usersHaveRealisticFacesAndAPlausibleShapeMix() throws {
        let world = try SyntheticWorld(WorldConfiguration(seed: 13, users: 6_000, items: 1, events: 1))
        var shapes = Array(repeating: 0, count: FaceShape.allCases.count)
        var undetermined = 0
        for user in world.users {
            shapes[user.faceShape.index] += 1
            if user.reportedFaceShape == nil { undetermined += 1 }
            let m = user.measurements
            #expect((160...235).contains(m.faceLengthMM))
            for width in [m.foreheadWidthMM, m.cheekboneWidthMM, m.jawWidthMM] { #expect((90...162).contains(width)) }
            #expect((54...74).contains(m.pupillaryDistanceMM))
            #expect((0.6...0.99).contains(user.confidence))
        }
        #expect(shapes[FaceShape.oval.index] == shapes.max())
        for (shape, probability) in zip(FaceShape.allCases, FaceModel.shapeProbabilities) {
            #expect(abs(Double(shapes[shape.index]) / 6_000 - probability) < 0.025, "\(shape)")
        }
        #expect((200...400).contains(undetermined))
    }
}
