import StediTestSupport
import StepTrainerSimulator

extension SimulatedStepTrainer: BenchDevice {}

/// The simulator tests' host: the shared bench around a simulated device.
typealias TestBench = DeviceTestBench<SimulatedStepTrainer>

extension DeviceTestBench where Device == SimulatedStepTrainer {
  init(_ options: SimulatorOptions = SimulatorOptions()) { self.init(SimulatedStepTrainer(options: options)) }
}
