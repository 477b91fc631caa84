#include "providers/xml_writer.h"

#include <libxml/xmlwriter.h>

#include <new>

#include "base/c_handle.h"

namespace gitdisc {
namespace {

using XmlBufferPtr = CHandle<xmlBuffer, xmlBufferFree>;
using XmlTextWriterPtr = CHandle<xmlTextWriter, xmlFreeTextWriter>;

// libxml2 wants NUL-terminated names and values.
std::string Z(std::string_view s) { return std::string(s); }

const xmlChar* X(const std::string& s) { return reinterpret_cast<const xmlChar*>(s.c_str()); }

void Check(int rc) {
  if (rc < 0) throw std::bad_alloc();
}

}  // namespace

struct XmlWriter::Impl {
  XmlBufferPtr buffer;
  XmlTextWriterPtr writer;  // writes into buffer; freed first (flushes)
  int open = 0;             // elements started and not ended
};

XmlWriter::XmlWriter() : impl_(std::make_unique<Impl>()) {
  impl_->buffer.reset(xmlBufferCreate());
  if (!impl_->buffer) throw std::bad_alloc();
  impl_->writer.reset(xmlNewTextWriterMemory(impl_->buffer.get(), 0));
  if (!impl_->writer) throw std::bad_alloc();
}

XmlWriter::~XmlWriter() {
  if (impl_) impl_->writer.reset();  // before its buffer
}

XmlWriter& XmlWriter::Start(std::string_view name) {
  Check(xmlTextWriterStartElement(impl_->writer.get(), X(Z(name))));
  ++impl_->open;
  return *this;
}

XmlWriter& XmlWriter::StartNs(std::string_view prefix, std::string_view name,
                              std::string_view uri) {
  std::string p = Z(prefix), n = Z(name), u = Z(uri);
  Check(xmlTextWriterStartElementNS(impl_->writer.get(), X(p), X(n), uri.empty() ? nullptr : X(u)));
  ++impl_->open;
  return *this;
}

XmlWriter& XmlWriter::Attr(std::string_view name, std::string_view value) {
  Check(xmlTextWriterWriteAttribute(impl_->writer.get(), X(Z(name)), X(Z(value))));
  return *this;
}

XmlWriter& XmlWriter::Text(std::string_view text) {
  Check(xmlTextWriterWriteString(impl_->writer.get(), X(Z(text))));
  return *this;
}

XmlWriter& XmlWriter::End() {
  Check(xmlTextWriterEndElement(impl_->writer.get()));
  --impl_->open;
  return *this;
}

XmlWriter& XmlWriter::EndFull() {
  Check(xmlTextWriterFullEndElement(impl_->writer.get()));
  --impl_->open;
  return *this;
}

XmlWriter& XmlWriter::Element(std::string_view name, std::string_view text) {
  return Start(name).Text(text).End();
}

std::string XmlWriter::Finish() {
  // Not xmlTextWriterEndDocument: it would append a newline.
  while (impl_->open > 0) End();
  impl_->writer.reset();  // flushes into the buffer
  const xmlChar* content = xmlBufferContent(impl_->buffer.get());
  return std::string(reinterpret_cast<const char*>(content),
                     static_cast<size_t>(xmlBufferLength(impl_->buffer.get())));
}

}  // namespace gitdisc
