// A sweep's summary.json: one Codable schema that `SearchReport.json` writes and every reader
// (`laser report`, `laser population`) decodes.
import Foundation

/// The figures of summary.json: the objective, the unreduced model, the best and chosen points,
/// the composition, every grid point on validation, the verdict and the side effects.
public struct SweepSummaryFile: Codable, Sendable, Equatable {
    /// A paired comparison as written (`MetricComparison`, flattened): rates carry the discordant
    /// pairs and both rates with Wilson intervals, means the bootstrap's settings.
    public struct Comparison: Codable, Sendable, Equatable {
        public var kind: String
        public var n: Int
        public var pValue: Double
        public var difference: Double
        public var ci95Low: Double
        public var ci95High: Double
        public var significant: Bool
        public var gained: Int?
        public var lost: Int?
        public var baselineRate: Double?
        public var baselineCi95Low: Double?
        public var baselineCi95High: Double?
        public var reducedRate: Double?
        public var reducedCi95Low: Double?
        public var reducedCi95High: Double?
        public var baselineMean: Double?
        public var reducedMean: Double?
        public var resamples: Int?
        public var seed: UInt64?

        enum CodingKeys: String, CodingKey {
            case kind, n
            case pValue = "p_value"
            case difference
            case ci95Low = "ci95_low"
            case ci95High = "ci95_high"
            case significant, gained, lost
            case baselineRate = "baseline_rate"
            case baselineCi95Low = "baseline_ci95_low"
            case baselineCi95High = "baseline_ci95_high"
            case reducedRate = "reduced_rate"
            case reducedCi95Low = "reduced_ci95_low"
            case reducedCi95High = "reduced_ci95_high"
            case baselineMean = "baseline_mean"
            case reducedMean = "reduced_mean"
            case resamples, seed
        }

        public init(_ c: MetricComparison) {
            kind = "rate"
            pValue = c.pValue
            difference = c.difference
            ci95Low = c.interval.low
            ci95High = c.interval.high
            significant = c.significant
            switch c {
            case .rate(let r):
                n = r.n
                gained = r.gained
                lost = r.lost
                baselineRate = r.baselineRate
                baselineCi95Low = r.baselineCI.low
                baselineCi95High = r.baselineCI.high
                reducedRate = r.reducedRate
                reducedCi95Low = r.reducedCI.low
                reducedCi95High = r.reducedCI.high
            case .mean(let m):
                kind = "mean"
                n = m.n
                baselineMean = m.baselineMean
                reducedMean = m.reducedMean
                resamples = m.resamples
                seed = m.seed
            }
        }
    }

    /// One model: the interventions (none for the unreduced), its metrics per split and its
    /// comparisons with the unreduced model.
    public struct Row: Codable, Sendable, Equatable {
        public var interventions: [String]
        public var validation: [String: Double]?
        public var test: [String: Double]?
        public var validationComparison: Comparison?
        public var testComparison: Comparison?

        enum CodingKeys: String, CodingKey {
            case interventions, validation, test
            case validationComparison = "validation_comparison"
            case testComparison = "test_comparison"
        }

        public init(
            interventions: [String], validation: [String: Double]?, test: [String: Double]?,
            validationComparison: MetricComparison?, testComparison: MetricComparison?
        ) {
            self.interventions = interventions
            self.validation = validation
            self.test = test
            self.validationComparison = validationComparison.map(Comparison.init)
            self.testComparison = testComparison.map(Comparison.init)
        }
    }

    public var objective: String
    public var higherIsBetter: Bool
    public var configurationsTried: Int
    public var baseline: Row
    /// The best reduction on validation, chosen or not.
    public var best: Row?
    /// The reduction chosen on validation: nil (written as null) when none beat the unreduced
    /// model.
    public var chosen: Row?
    public var composition: Row?
    public var compositionChosen: Bool
    /// Every grid point evaluated, on validation.
    public var sweep: [Row]
    public var verdict: String
    /// The chosen reductions' side effects (the unreduced model's when none is chosen); empty, and
    /// not written, when the sweep measured none.
    public var sideEffects: [SideEffects]

    enum CodingKeys: String, CodingKey {
        case objective
        case higherIsBetter = "higher_is_better"
        case configurationsTried = "configurations_tried"
        case baseline, best, chosen, composition
        case compositionChosen = "composition_chosen"
        case sweep, verdict
        case sideEffects = "side_effects"
    }

    public init(_ s: SearchSummary, sideEffects: [SideEffects] = []) {
        objective = s.objective.metric
        higherIsBetter = s.objective.higherIsBetter
        configurationsTried = s.configurationsTried
        baseline = Row(
            interventions: [], validation: s.baselineValidation, test: s.baselineTest,
            validationComparison: nil, testComparison: nil)
        best = s.best.map { b in
            Row(
                interventions: [b.intervention.description], validation: b.validation,
                test: b.test,
                validationComparison: s.sweep.firstIndex { $0.intervention == b.intervention }
                    .flatMap { s.sweepComparisons[$0] },
                testComparison: s.bestTestComparison)
        }
        chosen = s.chosen == nil ? nil : best
        composition = s.composition.map {
            Row(
                interventions: $0.interventions.map(\.description), validation: $0.validation,
                test: $0.test, validationComparison: nil,
                testComparison: s.compositionTestComparison)
        }
        compositionChosen = s.compositionChosen
        sweep = s.sweep.enumerated().map { k, row in
            Row(
                interventions: [row.intervention.description], validation: row.record.metrics,
                test: nil, validationComparison: s.sweepComparisons[k], testComparison: nil)
        }
        verdict = SearchReport.verdict(s)
        self.sideEffects = sideEffects
    }

    /// Reads a sweep's summary.json.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LaserError.io(
                "cannot read \(path): \(FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file (run the sweep first)")"
            )
        }
        do { self = try JSONDecoder().decode(Self.self, from: data) } catch {
            throw LaserError.io("\(path) is not a sweep summary.json")
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        objective = try c.decode(String.self, forKey: .objective)
        higherIsBetter = try c.decode(Bool.self, forKey: .higherIsBetter)
        configurationsTried = try c.decode(Int.self, forKey: .configurationsTried)
        baseline = try c.decode(Row.self, forKey: .baseline)
        best = try c.decodeIfPresent(Row.self, forKey: .best)
        chosen = try c.decodeIfPresent(Row.self, forKey: .chosen)
        composition = try c.decodeIfPresent(Row.self, forKey: .composition)
        compositionChosen = try c.decodeIfPresent(Bool.self, forKey: .compositionChosen) ?? false
        sweep = try c.decodeIfPresent([Row].self, forKey: .sweep) ?? []
        verdict = try c.decode(String.self, forKey: .verdict)
        sideEffects = try c.decodeIfPresent([SideEffects].self, forKey: .sideEffects) ?? []
    }

    // `chosen` is written as null when nothing is chosen (a reader tells "no reduction chosen"
    // from a summary of an older format that lacks the key); side effects only when measured.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(objective, forKey: .objective)
        try c.encode(higherIsBetter, forKey: .higherIsBetter)
        try c.encode(configurationsTried, forKey: .configurationsTried)
        try c.encode(baseline, forKey: .baseline)
        try c.encodeIfPresent(best, forKey: .best)
        try c.encode(chosen, forKey: .chosen)
        try c.encodeIfPresent(composition, forKey: .composition)
        try c.encode(compositionChosen, forKey: .compositionChosen)
        try c.encode(sweep, forKey: .sweep)
        try c.encode(verdict, forKey: .verdict)
        if !sideEffects.isEmpty { try c.encode(sideEffects, forKey: .sideEffects) }
    }
}
