module inplace-conformance/serve

go 1.22
