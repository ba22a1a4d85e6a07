using Flow.TestSupport;

// One private Azurite for the whole test assembly; each app under test uses its own table and queue prefixes.
[assembly: AssemblyFixture(typeof(AzuriteFixture))]
