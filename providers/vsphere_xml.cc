#include "providers/vsphere_xml.h"

#include <libxml/parser.h>

namespace gitdisc::vsphere {
namespace {

constexpr char kSoapEnv[] = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr char kXsi[] = "http://www.w3.org/2001/XMLSchema-instance";
constexpr char kXsd[] = "http://www.w3.org/2001/XMLSchema";
constexpr char kVim[] = "urn:vim25";
// A RetrievePropertiesEx page of a large inventory stays well below this.
constexpr size_t kMaxResponseBytes = 256u << 20;

const xmlChar* X(const char* s) { return reinterpret_cast<const xmlChar*>(s); }

}  // namespace

XmlWriter::XmlWriter(const char* method) : buf_(xmlBufferCreate()) {
  if (!buf_) {
    failed_ = true;
    return;
  }
  w_.reset(xmlNewTextWriterMemory(buf_.get(), 0));
  if (!w_) {
    failed_ = true;
    return;
  }
  Check(xmlTextWriterStartDocument(w_.get(), nullptr, "UTF-8", nullptr));
  Check(xmlTextWriterStartElementNS(w_.get(), X("soapenv"), X("Envelope"), X(kSoapEnv)));
  Check(xmlTextWriterWriteAttributeNS(w_.get(), X("xmlns"), X("xsi"), nullptr, X(kXsi)));
  Check(xmlTextWriterWriteAttributeNS(w_.get(), X("xmlns"), X("xsd"), nullptr, X(kXsd)));
  Check(xmlTextWriterStartElementNS(w_.get(), X("soapenv"), X("Body"), nullptr));
  Check(xmlTextWriterStartElementNS(w_.get(), nullptr, X(method), X(kVim)));
}

void XmlWriter::Start(const char* name) {
  if (w_) Check(xmlTextWriterStartElement(w_.get(), X(name)));
}

void XmlWriter::StartTyped(const char* name, const char* type) {
  Start(name);
  if (w_) Check(xmlTextWriterWriteAttributeNS(w_.get(), X("xsi"), X("type"), nullptr, X(type)));
}

void XmlWriter::End() {
  if (w_) Check(xmlTextWriterEndElement(w_.get()));
}

void XmlWriter::Text(std::string_view text) {
  if (!w_) return;
  std::string s(text);  // libxml2 wants a NUL-terminated string
  Check(xmlTextWriterWriteString(w_.get(), X(s.c_str())));
}

void XmlWriter::Element(const char* name, std::string_view text) {
  Start(name);
  Text(text);
  End();
}

void XmlWriter::Ref(const char* name, const MoRef& ref) {
  Start(name);
  if (w_) Check(xmlTextWriterWriteAttribute(w_.get(), X("type"), X(ref.type.c_str())));
  Text(ref.value);
  End();
}

Result<std::string> XmlWriter::Finish() {
  if (w_) Check(xmlTextWriterEndDocument(w_.get()));  // closes every open element
  if (w_) Check(xmlTextWriterFlush(w_.get()));
  if (failed_) return Status::Internal("building a SOAP request failed (libxml2 writer)");
  w_.reset();
  return std::string(reinterpret_cast<const char*>(xmlBufferContent(buf_.get())),
                     static_cast<size_t>(xmlBufferLength(buf_.get())));
}

Result<XmlDoc> ParseXml(std::string_view xml, const char* what) {
  if (xml.size() > kMaxResponseBytes) return Status::Invalid(std::string(what) + ": too large");
  XmlDoc doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), what, nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                               XML_PARSE_NOCDATA));
  if (!doc || !xmlDocGetRootElement(doc.get())) {
    return Status::Invalid(std::string(what) + ": not well-formed XML");
  }
  // A SOAP message has no document type declaration (SOAP 1.1 §3): refusing
  // one rules out entity tricks altogether.
  if (doc->intSubset != nullptr) return Status::Invalid(std::string(what) + ": has a DTD");
  return doc;
}

bool IsElement(const xmlNode* n, const char* local_name) {
  return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, X(local_name)) == 0;
}

const xmlNode* Child(const xmlNode* n, const char* local_name) {
  if (!n) return nullptr;
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (IsElement(c, local_name)) return c;
  }
  return nullptr;
}

std::vector<const xmlNode*> Children(const xmlNode* n, const char* local_name) {
  std::vector<const xmlNode*> out;
  if (!n) return out;
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (IsElement(c, local_name)) out.push_back(c);
  }
  return out;
}

const xmlNode* FirstChildElement(const xmlNode* n) {
  if (!n) return nullptr;
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) return c;
  }
  return nullptr;
}

std::string Text(const xmlNode* n) {
  if (!n) return {};
  xmlChar* v = xmlNodeGetContent(n);
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::string ChildText(const xmlNode* n, const char* local_name) {
  return Text(Child(n, local_name));
}

std::string XsiType(const xmlNode* n) {
  if (!n) return {};
  xmlChar* v = xmlGetNsProp(n, X("type"), X(kXsi));
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  size_t colon = s.find(':');
  return colon == std::string::npos ? s : s.substr(colon + 1);
}

std::string Attr(const xmlNode* n, const char* name) {
  if (!n) return {};
  xmlChar* v = xmlGetNoNsProp(n, X(name));
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

MoRef RefOf(const xmlNode* n) { return MoRef{Attr(n, "type"), Text(n)}; }

}  // namespace gitdisc::vsphere
