using System.Runtime.Versioning;

// Whole-graph tests start real servers; on a 2-core machine two graphs at once only slow each other down
// and make start-up timeouts flaky. One test class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

// The suite runs the backing servers as local processes, which processes mode supports on Linux.
[assembly: SupportedOSPlatform("linux")]
