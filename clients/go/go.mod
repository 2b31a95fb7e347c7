module github.com/holdfast-io/holdfast/clients/go

go 1.19
