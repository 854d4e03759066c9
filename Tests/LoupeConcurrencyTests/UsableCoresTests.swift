import Foundation
@testable import LoupeConcurrency
import Testing

@Suite struct UsableCoresTests {
    @Test func readsTheAffinityMask() {
        let status = "Name:\tloupe\nCpus_allowed:\t00000000,00000005\nCpus_allowed_list:\t0,2\n"
        #expect(allowedCores(inStatus: status) == 2)
        #expect(allowedCores(inStatus: "Cpus_allowed:\tff,ffffffff\n") == 40)
        #expect(allowedCores(inStatus: "Cpus_allowed:\t1") == 1)
        for unusable in ["Name:\tloupe\n", "Cpus_allowed:\t0000,0000\n", "Cpus_allowed:\t0x3\n", "Cpus_allowed:\t12 g\n"] {
            #expect(allowedCores(inStatus: unusable) == nil, "\(unusable)")
        }
    }

    @Test func isBetweenOneAndTheMachinesCores() {
        #expect((1...ProcessInfo.processInfo.activeProcessorCount).contains(usableCores))
    }
}
